# Mirrors Twisted's docs/web/howto/listings/client/request.py and response.py: Agent
# GET, response code/headers, readBody, task.react.
import sys

from twisted.internet import task
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers


async def main(reactor):
    agent = Agent(reactor)
    url = f"http://127.0.0.1:{sys.argv[1]}/hello".encode("ascii")
    response = await agent.request(b"GET", url,
                                   Headers({"User-Agent": ["Twisted Web Client Example"]}))
    print("Response version:", response.version)
    print("Response code:", response.code)
    print("Response phrase:", response.phrase)
    print("Content-Type:", response.headers.getRawHeaders(b"content-type"))
    body = await readBody(response)
    print("Response body:", body)


from twisted.internet import defer  # noqa: E402

task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
