"""AMP, the Asynchronous Messaging Protocol: typed request/response boxes, Twisted-compatible.

Wire format: a *box* is a sequence of key/value pairs, each a 2-byte big-endian length
and that many bytes (keys 1-255 bytes, values up to 65535), ended by a zero-length
key. A command box carries `_command` (the command name) and `_ask` (a tag); the
answer carries `_answer` with that tag and the response values, or `_error`,
`_error_code` and `_error_description`.

Layers, each replaceable, as in Twisted:

- BinaryBoxProtocol: bytes <-> AmpBox (a dict of bytes to bytes); enforces the
  length limits (a too-long key closes the connection with TooLong). It is its
  transport's streaming producer: while the write buffer is full it stops reading
  (unless answers or a one-way command of ours may still be waiting for the peer), so a
  peer flooding commands without reading the answers is bounded, and two AMP peers
  flooding each other never both stop.
- BoxDispatcher: boxes <-> Deferreds: tags outgoing commands, fires the Deferred when
  the answer or error comes back, hands incoming commands to a locator.
- CommandLocator: finds the responder for a command name among methods decorated
  with `SomeCommand.responder`; arguments are parsed and responses serialised by the
  Command's schema (`arguments`, `response`, `errors`, `fatalErrors`).
- AMP: all three in one protocol; `callRemote(Command, **kw)` returns a Deferred of the
  response dict.

Errors: a responder raising one of the Command's declared `errors` sends its code
and message; the caller's Deferred fails with the same exception class. Any other
exception is logged, answered with UNKNOWN and the connection is closed (as Twisted
does, since the protocol state may be inconsistent); the caller sees
UnknownRemoteError. An unknown command is answered with UNHANDLED (UnhandledCommand).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

from torsion.internet import defer
from torsion.internet.error import ConnectionClosed, ConnectionLost
from torsion.internet.protocol import Protocol, connectionDone
from torsion.logger import Logger
from torsion.protocols._amp_arguments import (
    AmpList,
    Argument,
    Boolean,
    DateTime,
    Decimal,
    Descriptor,
    Float,
    Integer,
    ListOf,
    Path,
    String,
    Unicode,
    _objectsToStrings,
    _stringsToObjects,
    _wireNameToPythonIdentifier,
)
from torsion.protocols._amp_box import (
    ANSWER,
    ASK,
    BOX_KEY_LIMIT,
    BOX_SIZE_LIMIT,
    COMMAND,
    ERROR,
    ERROR_CODE,
    ERROR_DESCRIPTION,
    MAX_KEY_LENGTH,
    MAX_VALUE_LENGTH,
    PROTOCOL_ERRORS,
    UNHANDLED_ERROR_CODE,
    UNKNOWN_ERROR_CODE,
    AmpBox,
    AmpError,
    BadLocalReturn,
    Box,
    IncompatibleVersions,
    InvalidSignature,
    MalformedAmpBox,
    NoEmptyBoxes,
    OnlyOneTLS,
    PeerVerifyError,
    ProtocolSwitched,
    QuitBox,
    RemoteAmpError,
    TooLong,
    UnhandledCommand,
    UnknownRemoteError,
    _BoxParser,
    parseString,
    utc,
)
from torsion.python.failure import Failure

__all__ = [
    "AMP",
    "ANSWER",
    "ASK",
    "AmpBox",
    "AmpError",
    "AmpList",
    "Argument",
    "BOX_KEY_LIMIT",
    "BOX_SIZE_LIMIT",
    "BadLocalReturn",
    "BinaryBoxProtocol",
    "Boolean",
    "Box",
    "BoxDispatcher",
    "COMMAND",
    "Command",
    "CommandLocator",
    "DateTime",
    "Decimal",
    "Descriptor",
    "ERROR",
    "ERROR_CODE",
    "ERROR_DESCRIPTION",
    "Float",
    "IncompatibleVersions",
    "Integer",
    "InvalidSignature",
    "ListOf",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "MalformedAmpBox",
    "NoEmptyBoxes",
    "OnlyOneTLS",
    "Path",
    "PeerVerifyError",
    "ProtocolSwitchCommand",
    "ProtocolSwitched",
    "QuitBox",
    "RemoteAmpError",
    "SimpleStringLocator",
    "StartTLS",
    "String",
    "TooLong",
    "UNHANDLED_ERROR_CODE",
    "UNKNOWN_ERROR_CODE",
    "Unicode",
    "UnhandledCommand",
    "UnknownRemoteError",
    "parseString",
    "utc",
]

_log = Logger()

for _moved in (AmpList, Argument, Boolean, DateTime, Decimal, Descriptor, Float, Integer,
               ListOf, Path,
               String, Unicode, AmpBox, AmpError, BadLocalReturn, IncompatibleVersions,
               InvalidSignature, MalformedAmpBox, NoEmptyBoxes, OnlyOneTLS, PeerVerifyError,
               ProtocolSwitched, QuitBox, RemoteAmpError, TooLong, UnhandledCommand,
               UnknownRemoteError):
    # Defined in the private modules, named as Twisted names them (reprs, tracebacks).
    _moved.__module__ = __name__
del _moved

# -- commands ------------------------------------------------------------------------------


class Command:
    """Subclass to declare an AMP command: its name, argument and response schemas, errors.

    `errors` maps exception classes to wire codes (inherited and merged down the class
    tree); `fatalErrors` likewise, but the connection closes after sending them. With
    `requiresAnswer = False`, callRemote returns None and no answer is sent.
    """

    commandName: ClassVar[bytes] = b"Command"
    arguments: ClassVar[list[tuple[bytes, Argument]]] = []
    response: ClassVar[list[tuple[bytes, Argument]]] = []
    errors: ClassVar[dict[type[BaseException], bytes]] = {}
    fatalErrors: ClassVar[dict[type[BaseException], bytes]] = {}
    allErrors: ClassVar[dict[type[BaseException], bytes]] = {}
    reverseErrors: ClassVar[dict[bytes, type[BaseException]]] = {}
    commandType: ClassVar[type[AmpBox]] = AmpBox
    responseType: ClassVar[type[AmpBox]] = AmpBox
    requiresAnswer: ClassVar[bool] = True

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "commandName" not in cls.__dict__:
            cls.commandName = cls.__name__.encode("ascii")
        if not isinstance(cls.commandName, bytes):
            raise TypeError(f"Command names must be byte strings, got: {cls.commandName!r}")
        for kind, schema in (("Argument", cls.arguments), ("Response", cls.response)):
            for name, _ in schema:
                if not isinstance(name, bytes):
                    raise TypeError(f"{kind} names must be byte strings, got: {name!r}")
        errors: dict[type[BaseException], bytes] = {}
        fatalErrors: dict[type[BaseException], bytes] = {}
        for klass in reversed(cls.__mro__):
            errors.update(dict(klass.__dict__.get("errors", {})))
            fatalErrors.update(dict(klass.__dict__.get("fatalErrors", {})))
        cls.errors = errors
        cls.fatalErrors = fatalErrors
        for name in [*errors.values(), *fatalErrors.values()]:
            if not isinstance(name, bytes):
                raise TypeError(f"Error names must be byte strings, got: {name!r}")
        cls.allErrors = {**errors, **fatalErrors}
        cls.reverseErrors = {code: exc for exc, code in cls.allErrors.items()}

    def __init__(self, **kw: Any) -> None:
        """Hold the keyword arguments for one invocation; raise InvalidSignature if some
        required argument is missing."""
        self.structured = kw
        forgotten = [
            _wireNameToPythonIdentifier(name)
            for name, arg in self.arguments
            if _wireNameToPythonIdentifier(name) not in kw and not arg.optional
        ]
        if forgotten:
            raise InvalidSignature(f"forgot {', '.join(forgotten)} for {self.commandName!r}")

    @classmethod
    def makeResponse(cls, objects: dict[str, Any], proto: Any) -> AmpBox:
        """Serialise a responder's result dict through the response schema."""
        return _objectsToStrings(objects, cls.response, cls.responseType(), proto)

    @classmethod
    def makeArguments(cls, objects: dict[str, Any], proto: Any) -> AmpBox:
        """Serialise callRemote's keyword arguments through the argument schema."""
        allowed = {_wireNameToPythonIdentifier(name) for name, _ in cls.arguments}
        for intended in objects:
            if intended not in allowed:
                raise InvalidSignature(f"{intended} is not a valid argument")
        return _objectsToStrings(objects, cls.arguments, cls.commandType(), proto)

    @classmethod
    def parseResponse(cls, box: dict[bytes, bytes], protocol: Any) -> dict[str, Any]:
        """Decode an answer box through the response schema."""
        return _stringsToObjects(box, cls.response, protocol)

    @classmethod
    def parseArguments(cls, box: dict[bytes, bytes], protocol: Any) -> dict[str, Any]:
        """Decode a command box through the argument schema."""
        return _stringsToObjects(box, cls.arguments, protocol)

    @classmethod
    def responder(cls, methodfunc: Callable[..., Any]) -> Callable[..., Any]:
        """Declare `methodfunc` (in a CommandLocator subclass body) the responder for me."""
        commands = methodfunc.__dict__.setdefault("_ampResponderFor", [])
        commands.append(cls)
        return methodfunc

    def _doCommand(self, proto: Any) -> defer.Deferred[Any] | None:
        """Send this command through `proto`; return a Deferred of the parsed response."""
        reverseErrors = self.reverseErrors

        def massageError(error: Failure) -> Failure:
            error.trap(RemoteAmpError)
            remote = error.value
            assert isinstance(remote, RemoteAmpError)
            errorType = reverseErrors.get(remote.errorCode)
            if errorType is None:
                return Failure(UnknownRemoteError(remote.description))
            return Failure(errorType(remote.description))

        d = proto._sendBoxCommand(
            self.commandName, self.makeArguments(self.structured, proto), self.requiresAnswer
        )
        if self.requiresAnswer:
            d.addCallback(self.parseResponse, proto)
            d.addErrback(massageError)
        return d  # type: ignore[no-any-return]


# -- dispatching ---------------------------------------------------------------------------


class BoxDispatcher:
    """Turn outgoing commands into tagged boxes and Deferreds, and incoming boxes into
    answers, errors and calls to the locator's responders."""

    _failAllReason: Failure | None = None
    _counter = 0
    _oneWaySent = False
    boxSender: Any = None

    def __init__(self, locator: Any) -> None:
        self._outstandingRequests: dict[bytes, defer.Deferred[Any]] | None = {}
        self.locator = locator

    def startReceivingBoxes(self, boxSender: Any) -> None:
        """Boxes will now arrive from (and answers go to) `boxSender`."""
        self.boxSender = boxSender

    def stopReceivingBoxes(self, reason: Failure) -> None:
        """No more boxes will arrive: fail every outstanding request with `reason`."""
        self.failAllOutgoing(reason)

    def failAllOutgoing(self, reason: Failure) -> None:
        """Errback every request still waiting for an answer."""
        self._failAllReason = reason
        outstanding = self._outstandingRequests or {}
        self._outstandingRequests = None
        for d in outstanding.values():
            d.errback(reason)

    def _nextTag(self) -> bytes:
        self._counter += 1
        return b"%x" % (self._counter,)

    def _sendBoxCommand(self, command: bytes, box: AmpBox,
                        requiresAnswer: bool = True) -> defer.Deferred[Any] | None:
        """Send a command box; return a Deferred of the answer box (or None)."""
        if self._failAllReason is not None:
            return defer.fail(self._failAllReason) if requiresAnswer else None
        box[COMMAND] = command
        tag = self._nextTag()
        if not requiresAnswer:
            # Flow control (BinaryBoxProtocol): a command may now sit in our output.
            self._oneWaySent = True
            box._sendTo(self.boxSender)
            return None
        box[ASK] = tag
        d: defer.Deferred[Any] = defer.Deferred()
        requests = self._outstandingRequests
        assert requests is not None
        # Registered before sending, so flow control sees an answer is awaited.
        requests[tag] = d
        try:
            box._sendTo(self.boxSender)
        except BaseException:
            requests.pop(tag, None)
            raise
        return d

    def callRemoteString(self, command: bytes, requiresAnswer: bool = True,
                         **kw: bytes) -> defer.Deferred[Any] | None:
        """Send a command with raw bytes arguments; fire with the raw answer box."""
        return self._sendBoxCommand(command, AmpBox(**kw), requiresAnswer)

    def callRemote(self, commandType: type[Command], *a: Any,
                   **kw: Any) -> defer.Deferred[Any] | None:
        """Invoke `commandType` on the peer; return a Deferred of the response dict.

        Returns None if the command does not require an answer. The Deferred fails
        with one of the command's declared errors, UnknownRemoteError or the
        connection's failure.
        """
        try:
            co = commandType(*a, **kw)
            return co._doCommand(self)
        except Exception:
            # One error path for callers: a failed Deferred (a command needing no answer
            # has no Deferred, so the error is raised).
            if not commandType.requiresAnswer:
                raise
            return defer.fail()

    def unhandledError(self, failure: Failure) -> None:
        """An error nobody handled: the box sender logs it and drops the connection."""
        self.boxSender.unhandledError(failure)

    def _answerReceived(self, box: AmpBox) -> None:
        question = self._popRequest(box[ANSWER])
        question.addErrback(self.unhandledError)
        question.callback(box)

    def _errorReceived(self, box: AmpBox) -> None:
        question = self._popRequest(box[ERROR])
        question.addErrback(self.unhandledError)
        errorCode = box.get(ERROR_CODE, UNKNOWN_ERROR_CODE)
        description = box.get(ERROR_DESCRIPTION, b"").decode("utf-8", "replace")
        exc: Exception
        if errorCode in PROTOCOL_ERRORS:
            exc = PROTOCOL_ERRORS[errorCode](errorCode, description)
        else:
            exc = RemoteAmpError(errorCode, description)
        question.errback(Failure(exc))

    def _popRequest(self, tag: bytes) -> defer.Deferred[Any]:
        requests = self._outstandingRequests
        if requests is None or tag not in requests:
            raise MalformedAmpBox(f"answer for unknown request {tag[:20]!r}")
        return requests.pop(tag)

    def _commandReceived(self, box: AmpBox) -> None:
        ask = box.get(ASK)

        def formatAnswer(answerBox: AmpBox) -> AmpBox:
            answerBox[ANSWER] = ask  # type: ignore[assignment]
            return answerBox

        def formatError(error: Failure) -> AmpBox:
            if error.check(RemoteAmpError):
                value = error.value
                assert isinstance(value, RemoteAmpError)
                code = value.errorCode
                desc = value.description.encode("utf-8", "replace")
                errorBox: AmpBox = QuitBox() if value.fatal else AmpBox()
            else:
                errorBox = QuitBox()
                _log.failure("Unhandled error in an AMP responder", error)
                code = UNKNOWN_ERROR_CODE
                desc = b"Unknown Error"
            errorBox[ERROR] = ask  # type: ignore[assignment]
            errorBox[ERROR_DESCRIPTION] = desc
            errorBox[ERROR_CODE] = code
            return errorBox

        deferred = self.dispatchCommand(box)
        if ask is not None:
            deferred.addCallbacks(formatAnswer, formatError)
            deferred.addCallback(self._safeEmit)
        deferred.addErrback(self.unhandledError)

    def ampBoxReceived(self, box: AmpBox) -> None:
        """Route one box: an answer, an error, or a command (else NoEmptyBoxes)."""
        if ANSWER in box:
            self._answerReceived(box)
        elif ERROR in box:
            self._errorReceived(box)
        elif COMMAND in box:
            self._commandReceived(box)
        else:
            raise NoEmptyBoxes(box)

    def _safeEmit(self, aBox: AmpBox) -> None:
        try:
            aBox._sendTo(self.boxSender)
        except (ProtocolSwitched, ConnectionLost):
            pass

    def dispatchCommand(self, box: AmpBox) -> defer.Deferred[Any]:
        """Call the responder for a command box; fail UNHANDLED if there is none."""
        cmd = box[COMMAND]
        responder = self.locator.locateResponder(cmd)
        if responder is None:
            return defer.fail(
                RemoteAmpError(UNHANDLED_ERROR_CODE, f"Unhandled Command: {cmd!r}", False,
                               local=Failure(UnhandledCommand()))
            )
        return defer.maybeDeferred(responder, box)


class CommandLocator:
    """Finds responders among methods declared with `SomeCommand.responder`.

    Responders of subclasses take precedence over inherited ones.
    """

    _commandDispatch: ClassVar[dict[bytes, tuple[type[Command], Callable[..., Any]]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        dispatch: dict[bytes, tuple[type[Command], Callable[..., Any]]] = {}
        for ancestor in reversed(cls.__mro__[1:]):
            dispatch.update(ancestor.__dict__.get("_commandDispatch", {}))
        for value in list(cls.__dict__.values()):
            for commandClass in getattr(value, "_ampResponderFor", ()):
                dispatch[commandClass.commandName] = (commandClass, value)
        cls._commandDispatch = dispatch

    def _wrapWithSerialization(self, aCallable: Callable[..., Any],
                               command: type[Command]) -> Callable[[AmpBox], Any]:
        """Wrap a responder so it takes and returns boxes, translating declared errors."""

        def doit(box: AmpBox) -> defer.Deferred[Any]:
            kw = command.parseArguments(box, self)

            def checkKnownErrors(error: Failure) -> Failure:
                key = error.trap(*command.allErrors)
                code = command.allErrors[key]
                desc = str(error.value)
                return Failure(
                    RemoteAmpError(code, desc, key in command.fatalErrors, local=error)
                )

            def makeResponseFor(objects: Any) -> AmpBox:
                try:
                    return command.makeResponse(objects, self)
                except Exception as e:
                    original = Failure()
                    raise BadLocalReturn(
                        f"{aCallable!r} returned {objects!r} and {command!r} could not "
                        f"serialize it: {e}",
                        original,
                    ) from e

            d = defer.maybeDeferred(aCallable, **kw).addCallback(makeResponseFor)
            if command.allErrors:
                d.addErrback(checkKnownErrors)
            return d

        return doit

    def locateResponder(self, name: bytes) -> Callable[[AmpBox], Any] | None:
        """Return a box-taking callable for the command `name`, or None."""
        entry = self._commandDispatch.get(name)
        if entry is None:
            return None
        commandClass, responderFunc = entry
        return self._wrapWithSerialization(responderFunc.__get__(self), commandClass)


class SimpleStringLocator:
    """Dispatch command NAME to a method `amp_NAME(box)` taking and returning raw boxes."""

    baseDispatchPrefix = b"amp_"

    def locateResponder(self, name: bytes) -> Callable[[AmpBox], Any] | None:
        """Return the method `amp_<NAME>` or None."""
        try:
            methodName = (self.baseDispatchPrefix + name.upper()).decode("ascii")
        except UnicodeDecodeError:
            return None
        return getattr(self, methodName, None)


# -- the byte layer --------------------------------------------------------------------------


class BinaryBoxProtocol(Protocol):
    """Parses bytes into AmpBoxes for a box receiver and writes boxes it is asked to send.

    A received box over `boxSizeLimit` bytes of pairs or `boxKeyLimit` keys is bad input:
    it is logged and the connection closed (the wire format bounds each key and value,
    not their number). Set them per subclass to accept bigger boxes.

    Flow control: the protocol registers itself as its transport's streaming producer
    (before connectionMade). While the transport's write buffer is over its high-water
    mark it stops reading the peer's boxes, so a peer that sends commands and never reads
    the answers cannot make us hold unbounded output; reading resumes when the buffer
    drains. It keeps reading while the box receiver awaits answers from the peer, or has
    sent the peer a one-way command since the buffer last drained: then our output may
    hold commands, and the peer may have to read them before it can answer or take more.
    Two AMP peers therefore never both stop: if we stopped, what we hold beyond the
    low-water mark is answers, so the peer awaits them and goes on reading. To register a
    producer of your own on the transport, first call ``transport.unregisterProducer()``
    (flow control then stays off for the connection).

    Descriptors (IFileDescriptorReceiver, for `Descriptor` arguments): received ones are
    held, numbered in order of arrival, until a box's Descriptor argument claims its
    ordinal. At most `maxUnclaimedDescriptors` are held (each is a slot of this process's
    descriptor table): past that the peer is misbehaving, and the connection is closed.
    Unclaimed ones are closed with the connection. Having ``fileDescriptorReceived`` makes
    a torsion UNIX connection carry descriptors (see torsion.internet._unix).
    """

    boxSizeLimit: int = BOX_SIZE_LIMIT
    boxKeyLimit: int = BOX_KEY_LIMIT
    maxUnclaimedDescriptors: int = 64
    _descriptors: dict[int, int] | None = None
    _descriptorsSentCount = 0
    _descriptorsReceivedCount = 0
    _outputFull = False
    _readingPaused = False
    _justStartedTLS = False
    _startingTLSBuffer: list[AmpBox] | None = None
    _locked = False
    _keyLengthLimitExceeded = False
    hostCertificate: Any = None
    noPeerCertificate = False
    innerProtocol: Any = None
    innerProtocolClientFactory: Any = None

    def __init__(self, boxReceiver: Any) -> None:
        self.boxReceiver = boxReceiver
        self._parser = _BoxParser(self._boxReceived, self.boxSizeLimit, self.boxKeyLimit)
        self._parseFailed = False

    def _boxReceived(self, box: AmpBox) -> None:
        self.boxReceiver.ampBoxReceived(box)

    def sendBox(self, box: AmpBox) -> None:
        """Send a box to the peer (buffered while TLS is being started)."""
        if self._locked:
            raise ProtocolSwitched("This connection has switched: no AMP traffic allowed.")
        if self.transport is None:
            raise ConnectionLost()
        if self._startingTLSBuffer is not None:
            self._startingTLSBuffer.append(box)
        else:
            self.transport.write(box.serialize())
        if self._outputFull:
            # A command sent while reading is paused: the peer may need us to read first.
            self._reconsiderReading()

    def makeConnection(self, transport: Any) -> None:
        """Tell the box receiver that boxes are coming, become the transport's streaming
        producer (flow control), then connect."""
        self.connected = True
        self.transport = transport
        register = getattr(transport, "registerProducer", None)
        if register is not None:
            try:
                register(self, True)
            except RuntimeError:
                _log.warn("{protocol} runs without flow control: its transport already has "
                          "a producer", protocol=self)
        self.boxReceiver.startReceivingBoxes(self)
        self.connectionMade()

    # -- flow control (IPushProducer towards the transport) ----------------------------------

    def pauseProducing(self) -> None:
        """The transport's write buffer is over its high-water mark: stop reading if safe."""
        self._outputFull = True
        self._reconsiderReading()

    def resumeProducing(self) -> None:
        """The transport's write buffer drained: read again."""
        self._outputFull = False
        receiver = self.boxReceiver
        if getattr(receiver, "_oneWaySent", False):
            receiver._oneWaySent = False
        self._reconsiderReading()

    def stopProducing(self) -> None:
        """The connection is ending; connectionLost does the cleaning up."""

    def _reconsiderReading(self) -> None:
        """Pause reading while output is full and nothing we sent may be awaited; else read.

        The peer may need to read what we sent (a command awaiting an answer, or a one-way
        command sent since the last drain) before it can read more of what we owe it.
        """
        receiver = self.boxReceiver
        mayPause = (
            self._outputFull
            and not getattr(receiver, "_outstandingRequests", None)
            and not getattr(receiver, "_oneWaySent", False)
            and self.innerProtocol is None
            and self.transport is not None
        )
        if mayPause and not self._readingPaused:
            self._readingPaused = True
            self.transport.pauseProducing()
        elif not mayPause and self._readingPaused:
            self._readingPaused = False
            if self.transport is not None:
                self.transport.resumeProducing()

    def dataReceived(self, data: bytes) -> None:
        """Parse boxes (or hand data to a protocol switched to)."""
        self._justStartedTLS = False
        if self.innerProtocol is not None:
            self.innerProtocol.dataReceived(data)
            return
        if self._parseFailed:
            return
        try:
            self._parser.feed(data)
            if self._outputFull:
                # Answers may have come: nothing awaited any more lets reading pause.
                self._reconsiderReading()
        except TooLong:
            self._keyLengthLimitExceeded = True
            self._parseFailed = True
            self.transport.loseConnection()
        except (NoEmptyBoxes, MalformedAmpBox) as e:
            self._parseFailed = True
            _log.warn("AMP protocol error, disconnecting: {error}", error=str(e))
            self.transport.loseConnection()

    # -- descriptors (Descriptor arguments) ------------------------------------------------

    def fileDescriptorReceived(self, descriptor: int) -> None:
        """Hold a descriptor from the peer until a Descriptor argument claims it."""
        held = self._descriptors
        if held is None:
            held = self._descriptors = {}
        ordinal = self._descriptorsReceivedCount
        self._descriptorsReceivedCount = ordinal + 1
        if len(held) >= self.maxUnclaimedDescriptors:
            os.close(descriptor)
            _log.warn("AMP peer sent more than {limit} descriptors no box claimed; "
                      "disconnecting", limit=self.maxUnclaimedDescriptors)
            if self.transport is not None:
                self.transport.loseConnection()
            return
        held[ordinal] = descriptor

    def _getDescriptor(self, ordinal: int) -> int:
        """Take the descriptor received with `ordinal` (a Descriptor argument's value)."""
        held = self._descriptors
        if held is None or ordinal not in held:
            raise ValueError(f"no descriptor #{ordinal} was received on this connection")
        return held.pop(ordinal)

    def _sendFileDescriptor(self, descriptor: int) -> int:
        """Send a duplicate of `descriptor` with the next bytes written; its ordinal."""
        send = getattr(self.transport, "sendFileDescriptor", None)
        if send is None:
            raise TypeError("amp.Descriptor needs a UNIX connection that can pass "
                            f"descriptors, not {type(self.transport).__name__}")
        send(descriptor)
        ordinal = self._descriptorsSentCount
        self._descriptorsSentCount = ordinal + 1
        return ordinal

    def _closeUnclaimedDescriptors(self) -> None:
        held, self._descriptors = self._descriptors, None
        for descriptor in (held or {}).values():
            try:
                os.close(descriptor)
            except OSError:
                pass

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Tell the box receiver (and any inner protocol) the connection is gone."""
        self._closeUnclaimedDescriptors()
        if self.innerProtocol is not None:
            self.innerProtocol.connectionLost(reason)
            if self.innerProtocolClientFactory is not None:
                self.innerProtocolClientFactory.clientConnectionLost(None, reason)
        if self._keyLengthLimitExceeded:
            failReason = Failure(TooLong(True, False, None, None))
        elif reason.check(ConnectionClosed) and self._justStartedTLS:
            failReason = Failure(
                PeerVerifyError("Peer rejected our certificate for an unknown reason.")
            )
        else:
            failReason = reason
        self.boxReceiver.stopReceivingBoxes(failReason)

    def _lockForSwitch(self) -> None:
        """Send no more boxes: a protocol switch is under way (ProtocolSwitchCommand)."""
        self._locked = True

    def _unlockFromSwitch(self) -> None:
        """The switch failed: boxes may be sent again (not once switched)."""
        if self.innerProtocol is not None:
            raise ProtocolSwitched("Protocol already switched.  Cannot unlock.")
        self._locked = False

    def _switchTo(self, newProto: Any, clientFactory: Any = None) -> None:
        """Hand the connection to `newProto`: it gets the transport, then every byte
        after the last AMP box (already received or yet to come).

        Flow control is ours no longer: reading resumes and we leave the transport's
        producer slot, so the new protocol may register a producer of its own.
        `clientFactory`, if given, is told clientConnectionLost when the connection ends.
        """
        self.innerProtocol = newProto
        self.innerProtocolClientFactory = clientFactory
        transport = self.transport
        if self._readingPaused:
            self._readingPaused = False
            transport.resumeProducing()
        if getattr(transport, "producer", self) is self:
            unregister = getattr(transport, "unregisterProducer", None)
            if unregister is not None:
                unregister()
        newProto.makeConnection(transport)
        self._parser.halt(self._switchedData)

    def _switchedData(self, data: bytes) -> None:
        """Bytes that followed the last AMP box: the protocol switched to reads them."""
        if self.innerProtocol is not None:
            self.innerProtocol.dataReceived(data)

    def _prepareTLS(self, certificate: Any, verifyAuthorities: Any) -> None:
        """Buffer outgoing boxes until the TLS handshake is started."""
        if self.hostCertificate is not None:
            raise OnlyOneTLS("TLS was already started on this connection")
        self._startingTLSBuffer = []

    def _startTLS(self, certificate: Any, verifyAuthorities: Any) -> None:
        """Start TLS on the transport, then flush the buffered boxes."""
        self.hostCertificate = certificate
        self._justStartedTLS = True
        self.transport.startTLS(certificate.options(*(verifyAuthorities or ())))
        buffered, self._startingTLSBuffer = self._startingTLSBuffer, None
        for box in buffered or ():
            self.sendBox(box)

    def unhandledError(self, failure: Failure) -> None:
        """An error no application code handled: log it and drop the connection."""
        _log.failure(
            "Amp server or network failure unhandled by client application.  Dropping "
            "connection!  To avoid, add errbacks to ALL remote commands!",
            failure,
        )
        if self.transport is not None:
            self.transport.loseConnection()


# -- TLS -------------------------------------------------------------------------------------


class _NoCertificate:
    """Stand-in when a side gives no certificate: anonymous client, throwaway server cert."""

    def __init__(self, client: bool) -> None:
        self.client = client

    def options(self, *authorities: Any) -> Any:
        from torsion.internet import ssl

        if not self.client:
            return ssl.selfSignedPair("TEMPORARY CERTIFICATE").options(*authorities)
        if authorities:
            return ssl.CertificateOptions(verify=True, requireCertificate=True,
                                          caCerts=list(authorities))
        return ssl.CertificateOptions()


class _TLSBox(AmpBox):
    """The answer to StartTLS: once sent, TLS starts on our side."""

    __slots__: list[str] = []

    @property
    def certificate(self) -> Any:
        return self.get(b"tls_localCertificate", _NoCertificate(False))

    @property
    def verify(self) -> Any:
        return self.get(b"tls_verifyAuthorities", None)

    def _sendTo(self, proto: Any) -> None:
        box = AmpBox(self)
        for key in (b"tls_localCertificate", b"tls_verifyAuthorities"):
            box.pop(key, None)
        box._sendTo(proto)
        proto._startTLS(self.certificate, self.verify)


class _LocalArgument(String):
    """An argument never sent on the wire (StartTLS's certificate parameters)."""

    def fromBox(self, name: bytes, strings: dict[bytes, bytes], objects: dict[str, Any],
                proto: Any) -> None:
        pass

    def toBox(self, name: bytes, strings: dict[bytes, bytes], objects: dict[str, Any],
              proto: Any) -> None:
        value = objects.pop(_wireNameToPythonIdentifier(name), None)
        if value is not None:
            strings[name] = value


class StartTLS(Command):
    """Start TLS on the connection; both sides switch after the answer.

    Special arguments (never sent): tls_localCertificate (a PrivateCertificate) and
    tls_verifyAuthorities (Certificates to verify the peer with); a responder may
    return the same keys.
    """

    arguments = [
        (b"tls_localCertificate", _LocalArgument(optional=True)),
        (b"tls_verifyAuthorities", _LocalArgument(optional=True)),
    ]
    response = [
        (b"tls_localCertificate", _LocalArgument(optional=True)),
        (b"tls_verifyAuthorities", _LocalArgument(optional=True)),
    ]
    responseType = _TLSBox

    def __init__(self, **kw: Any) -> None:
        self.certificate = kw.pop("tls_localCertificate", None) or _NoCertificate(True)
        self.authorities = kw.pop("tls_verifyAuthorities", None)
        Command.__init__(self, **kw)

    def _doCommand(self, proto: Any) -> defer.Deferred[Any] | None:
        d = Command._doCommand(self, proto)
        proto._prepareTLS(self.certificate, self.authorities)
        assert d is not None

        def start(response: Any) -> Any:
            proto._startTLS(self.certificate, self.authorities)
            return response

        return d.addCallback(start)


# -- protocol switching ----------------------------------------------------------------------


class _SwitchBox(AmpBox):
    """A responder's answer to a ProtocolSwitchCommand: once sent, the connection
    belongs to `innerProto`."""

    # No __slots__: the protocol to switch to is an attribute.

    def __init__(self, innerProto: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.innerProto = innerProto

    def __repr__(self) -> str:
        return f"_SwitchBox({self.innerProto!r}, **{dict.__repr__(self)})"

    def _sendTo(self, proto: Any) -> None:
        AmpBox._sendTo(self, proto)
        proto._lockForSwitch()
        proto._switchTo(self.innerProto)


class ProtocolSwitchCommand(Command):
    """A command whose successful answer switches the connection to another protocol.

    AMP can so negotiate a connection and then get out of the way. The caller passes
    the factory of the protocol to switch to first: ``callRemote(Switch, factory,
    **kw)``; no box may be sent while the answer is awaited. The responder returns the
    protocol instance for its side; once its answer is sent, every byte goes to that
    protocol. On the caller's side the answer makes the factory build a protocol, which
    gets every byte after the answer; an error answer unlocks AMP again and tells the
    factory clientConnectionFailed. The response schema is not used.
    """

    def __init__(self, _protoToSwitchToFactory: Any, **kw: Any) -> None:
        self.protoToSwitchToFactory = _protoToSwitchToFactory
        super().__init__(**kw)

    @classmethod
    def makeResponse(cls, objects: Any, proto: Any) -> AmpBox:
        """The responder's result is the protocol to switch to."""
        return _SwitchBox(objects)

    def _doCommand(self, proto: Any) -> defer.Deferred[Any] | None:
        d = super()._doCommand(proto)
        proto._lockForSwitch()
        factory = self.protoToSwitchToFactory
        assert d is not None

        def switchNow(response: Any) -> Any:
            innerProto = factory.buildProtocol(proto.transport.getPeer())
            proto._switchTo(innerProto, factory)
            return response

        def switchFailed(reason: Failure) -> Failure:
            proto._unlockFromSwitch()
            factory.clientConnectionFailed(None, Failure(ConnectionLost()))
            return reason

        return d.addCallbacks(switchNow, switchFailed)


# -- the protocol ----------------------------------------------------------------------------


class AMP(BinaryBoxProtocol, BoxDispatcher, CommandLocator, SimpleStringLocator):
    """An AMP connection: parse boxes, dispatch commands to responders, send commands."""

    def __init__(self, boxReceiver: Any = None, locator: Any = None) -> None:
        if boxReceiver is None:
            boxReceiver = self
        if locator is None:
            locator = self
        BoxDispatcher.__init__(self, locator)
        BinaryBoxProtocol.__init__(self, boxReceiver)

    def locateResponder(self, name: bytes) -> Callable[[AmpBox], Any] | None:
        """Prefer Command responders, then amp_NAME methods."""
        first = CommandLocator.locateResponder(self, name)
        if first is not None:
            return first
        return SimpleStringLocator.locateResponder(self, name)

    def __repr__(self) -> str:
        inner = f" inner {self.innerProtocol!r}" if self.innerProtocol is not None else ""
        return f"<{type(self).__name__}{inner} at 0x{id(self):x}>"

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail outstanding commands and forget the transport."""
        BinaryBoxProtocol.connectionLost(self, reason)
        self.transport = None

    @StartTLS.responder
    def _defaultStartTLSResponder(self) -> dict[str, Any]:
        """Accept StartTLS with no certificate (a throwaway self-signed one is made)."""
        return {}
