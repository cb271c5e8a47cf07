# Mirrors Twisted's docs/web/howto/listings/client/sendbody.py: Agent POST with a
# FileBodyProducer, reading the body with readBody.
import sys
from io import BytesIO

from twisted.internet import defer, task
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers


@defer.inlineCallbacks
def main(reactor):
    agent = Agent(reactor)
    body = FileBodyProducer(BytesIO(b"hello, world"))
    response = yield agent.request(
        b"POST", f"http://127.0.0.1:{sys.argv[1]}/echo".encode("ascii"),
        Headers({"Content-Type": ["text/x-greeting"]}), body)
    print("code:", response.code)
    print("body:", (yield readBody(response)))
    missing = yield agent.request(b"GET", f"http://127.0.0.1:{sys.argv[1]}/nope".encode())
    print("missing:", missing.code, len((yield readBody(missing))) > 0)


task.react(main)
