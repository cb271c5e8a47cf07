"""Tests for torsion.python.failure.Failure."""

from __future__ import annotations

import io
import pickle
import sys
import threading
import traceback
from collections.abc import Generator
from typing import Any

import pytest

from torsion.python.failure import Failure, NoCurrentExceptionError


def _raiser() -> None:
    raise ValueError("boom")


def _caught() -> Failure:
    try:
        _raiser()
    except ValueError:
        return Failure()
    raise AssertionError("not reached")


def test_noArgumentsCapturesCurrentException() -> None:
    """Failure() inside ``except`` captures the exception being handled and its traceback."""
    f = _caught()
    assert f.type is ValueError
    assert isinstance(f.value, ValueError)
    assert f.tb is not None


def test_noArgumentsOutsideExceptRaises() -> None:
    """Failure() with no current exception raises NoCurrentExceptionError."""
    with pytest.raises(NoCurrentExceptionError):
        Failure()


def test_fromExceptionValue() -> None:
    """Failure(exc) wraps an exception that was never raised (no traceback)."""
    exc = KeyError("k")
    f = Failure(exc)
    assert f.value is exc
    assert f.type is KeyError
    assert f.tb is None


def test_fromValueTypeAndTraceback() -> None:
    """Failure(value, type, tb) takes the three parts explicitly."""
    try:
        _raiser()
    except ValueError:
        excType, excValue, excTb = sys.exc_info()
    assert excValue is not None and excType is not None
    f = Failure(excValue, excType, excTb)
    assert (f.value, f.type, f.tb) == (excValue, excType, excTb)


def test_nonExceptionValueWithTypeIsNormalised() -> None:
    """Failure("msg", SomeError) builds SomeError("msg"), as Python normalises exc_info."""
    f = Failure("msg", RuntimeError)
    assert isinstance(f.value, RuntimeError)
    assert f.getErrorMessage() == "msg"


def test_failureOfFailureCopies() -> None:
    """Failure(aFailure) describes the same exception."""
    f = _caught()
    g = Failure(f)
    assert g.value is f.value and g.type is f.type and g.tb is f.tb


def test_checkReturnsMatchingType() -> None:
    """check() returns the first given type the exception is an instance of."""
    f = Failure(KeyError("k"))
    assert f.check(ValueError, LookupError, KeyError) is LookupError


def test_checkReturnsNoneWithoutMatch() -> None:
    """check() returns None when nothing matches."""
    assert Failure(KeyError("k")).check(ValueError, TypeError) is None


def test_checkAcceptsQualifiedNames() -> None:
    """check() matches qualified class names given as strings, including base classes."""
    f = Failure(KeyError("k"))
    assert f.check("builtins.LookupError") == "builtins.LookupError"


def test_trapReturnsMatchingType() -> None:
    """trap() returns the matching type when the exception is one of them."""
    assert Failure(KeyError("k")).trap(ValueError, KeyError) is KeyError


def test_trapReraisesTheOriginalException() -> None:
    """trap() re-raises the wrapped exception itself when nothing matches."""
    f = _caught()
    with pytest.raises(ValueError) as info:
        f.trap(KeyError)
    assert info.value is f.value


def test_getErrorMessage() -> None:
    """getErrorMessage() is the str() of the exception."""
    assert Failure(ValueError("bad thing")).getErrorMessage() == "bad thing"


def test_getErrorMessageSurvivesBrokenStr() -> None:
    """A broken __str__ on the exception does not make getErrorMessage raise."""

    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert "unprintable" in Failure(Broken()).getErrorMessage()


def test_raiseExceptionKeepsTraceback() -> None:
    """raiseException() raises the original exception with its original traceback frames."""
    f = _caught()
    with pytest.raises(ValueError) as info:
        f.raiseException()
    names = [entry.name for entry in traceback.extract_tb(info.value.__traceback__)]
    assert "_raiser" in names


def test_throwExceptionIntoGenerator() -> None:
    """throwExceptionIntoGenerator raises the exception at the generator's yield."""
    seen: list[BaseException] = []

    def gen() -> Generator[int, None, None]:
        try:
            yield 1
        except ValueError as e:
            seen.append(e)
            yield 2

    g = gen()
    next(g)
    f = _caught()
    assert f.throwExceptionIntoGenerator(g) == 2
    assert seen == [f.value]


def test_framesComputedFromTraceback() -> None:
    """frames lists (function, file, line, locals, globals) for each traceback entry."""
    f = _caught()
    names = [frame[0] for frame in f.frames]
    assert names[-1] == "_raiser"
    assert names[-2] == "_caught"
    assert f.frames[-1][1] == __file__


def test_defaultTraceback() -> None:
    """The default traceback has Python's layout: header, frames with source, type: msg."""
    text = _caught().getTraceback()
    assert text.startswith("Traceback (most recent call last):\n")
    assert 'in _raiser\n    raise ValueError("boom")\n' in text
    assert text.endswith("builtins.ValueError: boom\n")


def test_briefTraceback() -> None:
    """The brief traceback is one file:line:function line per frame."""
    text = _caught().getTraceback(detail="brief")
    assert text.startswith("Traceback: <class 'ValueError'>: boom\n")
    assert f"{__file__}:" in text and ":_raiser\n" in text


def test_verboseTracebackShowsCapturedLocals() -> None:
    """With captureVars, the verbose traceback shows each frame's locals."""

    def withLocal() -> Failure:
        secret = "the-local-value"  # noqa: F841 - shown in the traceback
        try:
            _raiser()
        except ValueError:
            return Failure(captureVars=True)
        raise AssertionError("not reached")

    text = withLocal().getTraceback(detail="verbose")
    assert "*--- Failure #" in text
    assert "secret : 'the-local-value'" in text
    assert "*--- End of Failure #" in text


def test_badDetailRejected() -> None:
    """An unknown detail level is a ValueError."""
    with pytest.raises(ValueError):
        _caught().getTraceback(detail="loud")


def test_printTracebackWritesToFile() -> None:
    """printTraceback writes the same text getTraceback returns."""
    f = _caught()
    out = io.StringIO()
    f.printTraceback(out)
    assert out.getvalue() == f.getTraceback()


def test_printBriefTraceback() -> None:
    """printBriefTraceback writes the brief form."""
    f = _caught()
    out = io.StringIO()
    f.printBriefTraceback(out)
    assert out.getvalue() == f.getTraceback(detail="brief")


def test_cleanFailureDropsTracebackButKeepsText() -> None:
    """cleanFailure drops traceback objects; the traceback text is unchanged."""
    f = _caught()
    before = f.getTraceback()
    f.cleanFailure()
    assert f.tb is None
    assert f.value.__traceback__ is None
    assert f.getTraceback() == before


def test_getTracebackObjectIsRealBeforeCleaning() -> None:
    """getTracebackObject returns the real traceback while there is one."""
    f = _caught()
    assert f.getTracebackObject() is f.tb


def test_getTracebackObjectAfterCleaningWorksWithStdlib() -> None:
    """After cleanFailure, getTracebackObject gives a stand-in the traceback module reads."""
    f = _caught()
    f.cleanFailure()
    entries = traceback.extract_tb(f.getTracebackObject())
    assert [e.name for e in entries][-1] == "_raiser"


def test_pickleRoundTrip() -> None:
    """A pickled Failure keeps its exception and traceback text (without traceback objects)."""
    f = _caught()
    g = pickle.loads(pickle.dumps(f))
    assert isinstance(g.value, ValueError)
    assert g.tb is None
    assert g.getTraceback() == f.getTraceback()


def test_crossesThreadsAfterCleaning() -> None:
    """A cleaned Failure made in another thread renders the same text in this one."""
    box: dict[str, Any] = {}

    def worker() -> None:
        f = _caught()
        box["text"] = f.getTraceback()
        f.cleanFailure()
        box["failure"] = f

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert box["failure"].getTraceback() == box["text"]


def test_framesAreLazy() -> None:
    """Creating a Failure walks no frames: they are computed on first use."""
    f = _caught()
    assert not hasattr(f, "_frames")
    f.frames  # noqa: B018
    assert hasattr(f, "_frames")


def test_repr() -> None:
    """repr names the class, the exception type and message."""
    assert repr(Failure(ValueError("x"))) == (
        "<torsion.python.failure.Failure builtins.ValueError: x>")


def test_raisedFailureIsCapturedAsItsException() -> None:
    """Raising a Failure and capturing it gives a Failure of the wrapped exception."""
    inner = _caught()
    try:
        raise inner
    except Failure:
        f = Failure()
    assert f.value is inner.value


def test_verboseWithoutCapturedVarsSaysSo() -> None:
    """Without captureVars, the verbose traceback says locals were not captured."""
    text = _caught().getTraceback(detail="verbose")
    assert " [Capture of Locals and Globals disabled (use captureVars=True)]\n" in text


def test_defaultTracebackWithoutFrames() -> None:
    """A Failure with no traceback renders Twisted's 'Failure: type: message' form."""
    assert Failure(KeyError("nokey")).getTraceback() == (
        "Traceback (most recent call last):\nFailure: builtins.KeyError: 'nokey'\n")


def test_strIsBriefTraceback() -> None:
    """str() of a Failure wraps its brief traceback, as Twisted's does."""
    f = _caught()
    assert str(f) == f"[Failure instance: {f.getBriefTraceback()}]"


def test_exceptionClassIsInstantiated() -> None:
    """Failure(SomeErrorClass) wraps an instance of it, as ``raise SomeErrorClass`` does."""
    f = Failure(KeyError)
    assert f.type is KeyError and isinstance(f.value, KeyError)
