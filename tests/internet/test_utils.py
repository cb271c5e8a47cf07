"""torsion.internet.utils: process output and exit codes with real /bin/sh children, warnings."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from torsion.internet import error, utils
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred

if TYPE_CHECKING:
    from torsion.internet._process import Process
    from torsion.internet.interfaces import IProcessTransport, IReactorProcess

    def _conforms(r: Reactor, p: Process) -> tuple[IReactorProcess, IProcessTransport]:
        """Static check: the reactor is an IReactorProcess, its processes IProcessTransports."""
        return r, p


SH = "/bin/sh"


def test_getProcessOutputFiresWithStdout(reactor: Reactor, run: Any) -> None:
    """getProcessOutput fires with what the child wrote to stdout."""
    d = utils.getProcessOutput(SH, ["-c", "echo hello; echo world"], reactor=reactor)
    assert run(d) == b"hello\nworld\n"


def test_executableIsArgvZero(reactor: Reactor, run: Any) -> None:
    """The executable is prepended as argv[0]; args are only the arguments."""
    if not os.path.exists("/proc/self/cmdline"):
        pytest.skip("needs Linux /proc")
    d = utils.getProcessOutput("/bin/cat", ["/proc/self/cmdline"], reactor=reactor)
    assert run(d) == b"/bin/cat\0/proc/self/cmdline\0"


def test_defaultEnvironmentIsEmpty(
    reactor: Reactor, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without env the child gets an empty environment, as in Twisted."""
    monkeypatch.setenv("TORSION_UTILS_PROBE", "inherited")
    d = utils.getProcessOutput(
        SH, ["-c", 'printf %s "${TORSION_UTILS_PROBE-unset}"'], reactor=reactor
    )
    assert run(d) == b"unset"


def test_envNoneInheritsEnvironment(
    reactor: Reactor, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """env=None passes the parent's os.environ to the child."""
    monkeypatch.setenv("TORSION_UTILS_PROBE", "inherited")
    d = utils.getProcessOutput(
        SH, ["-c", 'printf %s "${TORSION_UTILS_PROBE-unset}"'], env=None, reactor=reactor
    )
    assert run(d) == b"inherited"


def test_pathIsTheWorkingDirectory(reactor: Reactor, run: Any, tmp_path: Path) -> None:
    """The child runs in ``path``."""
    d = utils.getProcessOutput(SH, ["-c", "pwd -P"], path=str(tmp_path), reactor=reactor)
    assert run(d) == str(tmp_path.resolve()).encode() + b"\n"


def test_stderrFailsGetProcessOutput(reactor: Reactor, run: Any) -> None:
    """Output on stderr fails the result with an OSError naming what was written."""
    d = utils.getProcessOutput(SH, ["-c", "printf oops >&2; exit 3"], reactor=reactor)
    with pytest.raises(OSError, match="got stderr: b'oops'") as info:
        run(d)
    processEnded = getattr(info.value, "processEnded")  # noqa: B009 - the Twisted attribute
    with pytest.raises(error.ProcessTerminated) as ended:
        run(processEnded)
    assert ended.value.exitCode == 3


def test_errortooIncludesStderr(reactor: Reactor, run: Any) -> None:
    """With errortoo stderr is part of the result instead of a failure."""
    d = utils.getProcessOutput(
        SH, ["-c", "printf out; printf err >&2"], reactor=reactor, errortoo=True
    )
    assert run(d) in (b"outerr", b"errout")


def test_getProcessOutputIgnoresExitCode(reactor: Reactor, run: Any) -> None:
    """A non-zero exit without stderr output still fires with the output."""
    d = utils.getProcessOutput(SH, ["-c", "printf partial; exit 5"], reactor=reactor)
    assert run(d) == b"partial"


def test_getProcessValueFiresWithExitCode(reactor: Reactor, run: Any) -> None:
    """getProcessValue fires with the child's exit code."""
    assert run(utils.getProcessValue(SH, ["-c", "exit 7"], reactor=reactor)) == 7


def test_getProcessValueOfSignalledChildIsNone(reactor: Reactor, run: Any) -> None:
    """A child killed by a signal has no exit code: getProcessValue fires with None."""
    assert run(utils.getProcessValue(SH, ["-c", "kill -KILL $$"], reactor=reactor)) is None


def test_getProcessOutputAndValueFiresWithAllThree(reactor: Reactor, run: Any) -> None:
    """getProcessOutputAndValue fires with (stdout, stderr, exitCode), kept apart."""
    d = utils.getProcessOutputAndValue(
        SH, ["-c", "printf out; printf err >&2; exit 2"], reactor=reactor
    )
    assert run(d) == (b"out", b"err", 2)


def test_getProcessOutputAndValueFailsWithSignal(reactor: Reactor, run: Any) -> None:
    """A signal ends the child: the failure is the tuple (stdout, stderr, signalNumber)."""
    d = utils.getProcessOutputAndValue(
        SH, ["-c", "printf out; printf err >&2; kill -TERM $$"], reactor=reactor
    )
    with pytest.raises(utils.ProcessOutputAndSignal) as info:
        run(d)
    out, err, sig = info.value
    assert (out, err, sig) == (b"out", b"err", 15)
    assert info.value == (b"out", b"err", 15)
    assert info.value[2] == info.value.signal == 15


def test_stdinBytesAreWrittenAndStdinClosed(reactor: Reactor, run: Any) -> None:
    """stdinBytes reach the child's stdin, which is then closed (cat finishes)."""
    d = utils.getProcessOutputAndValue("/bin/cat", reactor=reactor, stdinBytes=b"fed\n")
    assert run(d) == (b"fed\n", b"", 0)


def test_globalReactorIsTheDefault(tmp_path: Path) -> None:
    """Without a reactor argument the global reactor runs the child."""
    script = tmp_path / "main.py"
    script.write_text(
        "from torsion.internet import reactor, utils\n"
        "d = utils.getProcessOutput('/bin/sh', ['-c', 'printf from-child'])\n"
        "d.addCallback(lambda out: print(out.decode()))\n"
        "d.addBoth(lambda _: reactor.stop())\n"
        "reactor.run()\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.stdout == "from-child\n", result.stderr


# --- warnings ---------------------------------------------------------------------------


IGNORE_DEPRECATION: utils.WarningFilter = (("ignore",), {"category": DeprecationWarning})


def _deprecated() -> str:
    warnings.warn("old", DeprecationWarning, stacklevel=1)
    return "result"


def test_runWithWarningsSuppressedSuppresses() -> None:
    """Warnings matching the filters are not emitted while ``f`` runs; its result returns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], _deprecated)
    assert result == "result"
    assert caught == []


def test_runWithWarningsSuppressedRemovesItsFilters() -> None:
    """After ``f`` returns the filters are as they were: the warning is emitted again."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], _deprecated)
        assert warnings.filters == before
        _deprecated()
    assert [str(w.message) for w in caught] == ["old"]


def test_runWithWarningsSuppressedRemovesFiltersOnError() -> None:
    """An exception from ``f`` propagates and the filters are removed."""

    def broken() -> None:
        raise ZeroDivisionError()

    with warnings.catch_warnings():
        before = list(warnings.filters)
        with pytest.raises(ZeroDivisionError):
            utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], broken)
        assert warnings.filters == before


def test_runWithWarningsSuppressedWaitsForDeferred() -> None:
    """A Deferred result keeps the filters until it fires, covering the callbacks it has."""
    d: Deferred[str] = Deferred()
    d.addCallback(lambda _: _deprecated())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], lambda: d)
        assert warnings.filters != before
        d.callback("fired")
        assert warnings.filters == before
    assert caught == []


def test_suppressWarningsWrapsTheFunction() -> None:
    """suppressWarnings returns a same-named callable that suppresses on every call."""
    wrapped = utils.suppressWarnings(_deprecated, IGNORE_DEPRECATION)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert wrapped() == "result"
        assert wrapped() == "result"
    assert caught == []
    assert wrapped.__name__ == "_deprecated"


def test_runWithWarningsSuppressedKeepsAnEqualExistingFilter() -> None:
    """A filter already present and equal to a suppressing one is still there afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("error", category=UserWarning)
        before = list(warnings.filters)
        utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], lambda: None)
        assert warnings.filters == before
