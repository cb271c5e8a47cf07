"""Tests for torsion.python.logfile: size-rotated LogFile and day-rotated DailyLogFile."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from torsion.python.logfile import DailyLogFile, LogFile


def test_writeAppendsToFile(tmp_path: Path) -> None:
    """Written text lands in directory/name, UTF-8 encoded."""
    log = LogFile("app.log", str(tmp_path))
    log.write("héllo\n")
    log.write(b"bytes\n")
    log.flush()
    assert (tmp_path / "app.log").read_bytes() == "héllo\nbytes\n".encode()
    log.close()


def test_sizeTracksExistingContent(tmp_path: Path) -> None:
    """Opening an existing file starts its size at the file's length."""
    (tmp_path / "app.log").write_bytes(b"12345")
    log = LogFile("app.log", str(tmp_path))
    assert log.size == 5
    log.close()


def test_rotatesWhenRotateLengthReached(tmp_path: Path) -> None:
    """The write after the file reaches rotateLength goes to a fresh file; the old is .1."""
    log = LogFile("app.log", str(tmp_path), rotateLength=10)
    log.write("0123456789")
    log.write("next")
    log.flush()
    assert (tmp_path / "app.log.1").read_text() == "0123456789"
    assert (tmp_path / "app.log").read_text() == "next"
    log.close()


def test_rotationShiftsOlderFiles(tmp_path: Path) -> None:
    """Each rotation renames .1 to .2 and so on; .1 is always the newest."""
    log = LogFile("app.log", str(tmp_path), rotateLength=None)
    for text in ("a", "b", "c"):
        log.write(text)
        log.rotate()
    assert log.listLogs() == [1, 2, 3]
    assert (tmp_path / "app.log.1").read_text() == "c"
    assert (tmp_path / "app.log.3").read_text() == "a"
    log.close()


def test_maxRotatedFilesDeletesOldest(tmp_path: Path) -> None:
    """No more than maxRotatedFiles rotated files are kept."""
    log = LogFile("app.log", str(tmp_path), rotateLength=None, maxRotatedFiles=2)
    for text in ("a", "b", "c", "d"):
        log.write(text)
        log.rotate()
    assert log.listLogs() == [1, 2]
    assert (tmp_path / "app.log.2").read_text() == "c"
    log.close()


def test_getLogReadsRotatedFile(tmp_path: Path) -> None:
    """getLog(n) reads the lines of rotated file n; a missing one raises ValueError."""
    log = LogFile("app.log", str(tmp_path), rotateLength=None)
    log.write("one\ntwo\n")
    log.rotate()
    reader = log.getLog(1)
    assert reader.readLines() == ["one\n", "two\n"]
    assert reader.readLines() == []
    reader.close()
    with pytest.raises(ValueError):
        log.getLog(5)
    log.close()


def test_defaultModeApplied(tmp_path: Path) -> None:
    """defaultMode sets the permission bits of the log file."""
    log = LogFile("app.log", str(tmp_path), defaultMode=0o600)
    assert stat.S_IMODE(os.stat(tmp_path / "app.log").st_mode) == 0o600
    log.rotate()
    assert stat.S_IMODE(os.stat(tmp_path / "app.log").st_mode) == 0o600
    log.close()


def test_fromFullPath(tmp_path: Path) -> None:
    """fromFullPath splits a path into directory and name."""
    log = LogFile.fromFullPath(str(tmp_path / "x.log"), rotateLength=5)
    assert log.name == "x.log" and log.directory == str(tmp_path) and log.rotateLength == 5
    log.close()


def test_reopenAfterExternalMove(tmp_path: Path) -> None:
    """reopen() starts writing to a new file at the path after the old one was moved."""
    log = LogFile("app.log", str(tmp_path))
    log.write("old")
    log.flush()
    os.rename(tmp_path / "app.log", tmp_path / "moved.log")
    log.reopen()
    log.write("new")
    log.flush()
    assert (tmp_path / "app.log").read_text() == "new"
    assert (tmp_path / "moved.log").read_text() == "old"
    log.close()


class _FakeDaily(DailyLogFile):
    """A DailyLogFile whose notion of today the test sets."""

    today = (2026, 11, 21)

    def toDate(self, *args: float) -> tuple[int, int, int]:
        if args:
            return super().toDate(*args)
        return self.today


def test_dailyRotatesOnNewDay(tmp_path: Path) -> None:
    """The first write of a new day renames the file after the previous day."""
    log = _FakeDaily("app.log", str(tmp_path))
    log.lastDate = (2026, 11, 21)
    log.write("day one\n")
    log.today = (2026, 11, 22)
    log.write("day two\n")
    log.flush()
    assert (tmp_path / "app.log.2026_11_21").read_text() == "day one\n"
    assert (tmp_path / "app.log").read_text() == "day two\n"
    log.close()


def test_dailyDoesNotRotateSameDay(tmp_path: Path) -> None:
    """Writes on the same day stay in one file."""
    log = _FakeDaily("app.log", str(tmp_path))
    log.lastDate = log.today
    log.write("a")
    log.write("b")
    log.flush()
    assert os.listdir(tmp_path) == ["app.log"]
    log.close()


def test_dailyKeepsFileWhenDayAlreadyRotated(tmp_path: Path) -> None:
    """If the day's rotated file exists, writing continues in the live file."""
    (tmp_path / "app.log.2026_11_21").write_text("earlier")
    log = _FakeDaily("app.log", str(tmp_path))
    log.lastDate = (2026, 11, 21)
    log.today = (2026, 11, 22)
    log.write("x")
    log.flush()
    assert (tmp_path / "app.log.2026_11_21").read_text() == "earlier"
    assert (tmp_path / "app.log").read_text() == "x"
    log.close()


def test_dailySuffixFormat(tmp_path: Path) -> None:
    """The suffix is year_month_day without zero padding, as Twisted writes it."""
    log = DailyLogFile("app.log", str(tmp_path))
    assert log.suffix((2026, 1, 2)) == "2026_1_2"
    log.close()


def test_dailyGetLogToday(tmp_path: Path) -> None:
    """getLog for today reads the live file; for a missing day raises ValueError."""
    log = _FakeDaily("app.log", str(tmp_path))
    log.write("now\n")
    reader = log.getLog(log.today)
    assert reader.readLines() == ["now\n"]
    reader.close()
    with pytest.raises(ValueError):
        log.getLog((1999, 1, 1))
    log.close()
