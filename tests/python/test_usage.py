"""Tests for torsion.python.usage: Twisted-style declarative option parsing."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.python import usage


class Basic(usage.Options):
    """A parser with one of each kind of option."""

    optFlags = [["verbose", "v", "Talk more."], ["quiet", None, "Talk less."]]
    optParameters = [
        ["port", "p", 8080, "Port to listen on.", int],
        ["host", None, "localhost", "Host name."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def opt_debug(self) -> None:
        """Turn on debugging."""
        self["debug"] = True

    def opt_module(self, name: str) -> None:
        """Add a module (repeatable)."""
        self.seen.append(name)

    opt_m = opt_module


def test_defaultsApplyWhenNothingGiven() -> None:
    """Parameters take their declared defaults and flags start false."""
    opts = Basic()
    opts.parseOptions([])
    assert (opts["port"], opts["host"], opts["verbose"]) == (8080, "localhost", False)


def test_flagLongAndShort() -> None:
    """A flag is set by its long name or its one-letter alias."""
    a, b = Basic(), Basic()
    a.parseOptions(["--verbose"])
    b.parseOptions(["-v"])
    assert a["verbose"] and b["verbose"]


def test_parameterFormsAndCoercion() -> None:
    """--p=v, --p v, -pv and -p v all set the parameter, coerced by its coerce function."""
    for argv in (["--port=81"], ["--port", "81"], ["-p81"], ["-p", "81"]):
        opts = Basic()
        opts.parseOptions(argv)
        assert opts["port"] == 81


def test_coercionFailureIsUsageError() -> None:
    """A value the coerce function rejects raises UsageError, not ValueError."""
    with pytest.raises(usage.UsageError, match="Parameter type enforcement failed"):
        Basic().parseOptions(["--port", "eighty"])


def test_unknownOptionIsUsageError() -> None:
    """An undeclared option raises UsageError naming it."""
    with pytest.raises(usage.UsageError, match="nope"):
        Basic().parseOptions(["--nope"])


def test_missingValueIsUsageError() -> None:
    """A parameter given without a value raises UsageError."""
    with pytest.raises(usage.UsageError, match="port"):
        Basic().parseOptions(["--port"])


def test_optMethodFlagAndParameterWithAlias() -> None:
    """opt_ methods become flags (no argument) or parameters (one argument); aliases work."""
    opts = Basic()
    opts.parseOptions(["--debug", "--module", "a", "-m", "b"])
    assert opts["debug"] is True and opts.seen == ["a", "b"]


def test_combinedShortFlags() -> None:
    """Several one-letter options may be combined after one dash."""
    opts = Basic()
    opts.parseOptions(["-vp9"])
    assert opts["verbose"] and opts["port"] == 9


class TwoArgs(usage.Options):
    """A parser taking one required and one optional positional argument."""

    def parseArgs(self, src: str, dst: str = "out") -> None:
        self["src"], self["dst"] = src, dst


def test_parseArgsReceivesPositionals() -> None:
    """Positional words are passed to parseArgs."""
    opts = TwoArgs()
    opts.parseOptions(["a"])
    assert (opts["src"], opts["dst"]) == ("a", "out")


def test_parseArgsArityChecked() -> None:
    """Too many or too few positional words raise UsageError."""
    with pytest.raises(usage.UsageError, match="Wrong number of arguments"):
        TwoArgs().parseOptions(["a", "b", "c"])
    with pytest.raises(usage.UsageError, match="Wrong number of arguments"):
        TwoArgs().parseOptions([])


def test_defaultParseArgsRejectsPositionals() -> None:
    """The base parser accepts no positional words."""
    with pytest.raises(usage.UsageError):
        usage.Options().parseOptions(["stray"])


class Checked(usage.Options):
    """A parser whose postOptions rejects a combination."""

    optFlags = [["a", None, ""], ["b", None, ""]]

    def postOptions(self) -> None:
        if self["a"] and self["b"]:
            raise usage.UsageError("--a and --b are exclusive")


def test_postOptionsRunsAfterParsing() -> None:
    """postOptions sees the parsed values and may reject them."""
    Checked().parseOptions(["--a"])
    with pytest.raises(usage.UsageError, match="exclusive"):
        Checked().parseOptions(["--a", "--b"])


class Sub(usage.Options):
    """A sub-command parser."""

    optParameters = [["port", "p", "1", "Port."]]


class Main(usage.Options):
    """A parser with sub-commands."""

    optFlags = [["verbose", "v", "Talk more."]]
    subCommands = [["serve", "s", Sub, "Serve things."]]


def test_subCommandGetsItsOwnOptions() -> None:
    """Options after the sub-command's name are parsed by its own parser."""
    opts = Main()
    opts.parseOptions(["-v", "serve", "--port", "9"])
    assert opts.subCommand == "serve"
    assert opts.subOptions is not None and opts.subOptions["port"] == "9"
    assert opts.subOptions.parent is opts and opts["verbose"]


def test_subCommandShortcut() -> None:
    """A sub-command's shortcut selects it under its full name."""
    opts = Main()
    opts.parseOptions(["s"])
    assert opts.subCommand == "serve"


class WithDefault(Main):
    """A parser with a default sub-command."""

    defaultSubCommand = "serve"


def test_defaultSubCommand() -> None:
    """Without a sub-command name, defaultSubCommand runs with its defaults."""
    opts = WithDefault()
    opts.parseOptions(["-v"])
    assert opts.subCommand == "serve" and opts.subOptions is not None
    assert opts.subOptions["port"] == "1"


def test_unknownSubCommandIsUsageError() -> None:
    """A positional word that names no sub-command raises UsageError naming it."""
    with pytest.raises(usage.UsageError, match="Unknown command: bogus"):
        Main().parseOptions(["bogus"])


def test_subclassExtendsDeclarations() -> None:
    """A subclass's optParameters add to, rather than replace, its base's."""

    class More(Basic):
        optParameters = [["extra", "x", None, "More."]]

    opts = More()
    opts.parseOptions(["-x", "1", "-p", "2"])
    assert (opts["extra"], opts["port"]) == ("1", 2)


def test_usageListsOptionsDocsAndDefaults() -> None:
    """getUsage names each option with its alias, doc and default, and sub-commands."""
    text = Basic().getUsage(width=100)
    assert "-p, --port=" in text and "Port to listen on." in text and "[default: 8080]" in text
    assert "--module=" in text and "Add a module" in text and "--help" in text
    assert "serve" in Main().getUsage() and "Serve things." in Main().getUsage()


def test_helpPrintsUsageAndExits(capsys: pytest.CaptureFixture[str]) -> None:
    """--help prints the synopsis and usage, then exits with status 0."""
    with pytest.raises(SystemExit) as info:
        Basic().parseOptions(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: ") and "--verbose" in out


def test_versionPrintsVersionAndExits(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints torsion's version and exits with status 0."""
    import torsion

    with pytest.raises(SystemExit):
        usage.Options().parseOptions(["--version"])
    assert torsion.__version__ in capsys.readouterr().out


def test_subCommandSynopsisIncludesParent() -> None:
    """A sub-command's synopsis starts with its parent's and names the sub-command."""
    opts = Main()
    opts.parseOptions(["serve"])
    assert opts.subOptions is not None
    synopsis = opts.subOptions.getSynopsis()
    assert synopsis.startswith("Usage: ") and " serve " in synopsis


def test_portCoerceRange() -> None:
    """portCoerce accepts 0-65535 and rejects other numbers."""
    assert usage.portCoerce("65535") == 65535
    with pytest.raises(ValueError):
        usage.portCoerce("65536")


def test_optionsAreHashableByIdentity() -> None:
    """Options objects can be set members even though they are dicts."""
    a, b = usage.Options(), usage.Options()
    assert len({a, b}) == 2


class Spelled(usage.Options):
    """A parser with underscore and dash option names."""

    optParameters = [["dest_port", "d", "1", "Port."], ["log-format", None, "text", "Format."]]

    def opt_log_format(self, value: str) -> None:
        """Handled by a method whose name has underscores."""
        self["log-format"] = value.upper()

    def opt_dry_run(self) -> None:
        """A flag method."""
        self["dry"] = True


def test_dashAndUnderscoreSpellingsAreTheSameOption() -> None:
    """--dest-port and --dest_port name one option; opt_log_format handles --log-format."""
    opts = Spelled()
    opts.parseOptions(["--dest-port", "5", "--log_format", "json", "--dry-run"])
    assert (opts["dest_port"], opts["log-format"], opts["dry"]) == ("5", "JSON", True)
    assert "--dest_port=" in opts.getUsage() and "--dest-port" not in opts.getUsage()


def test_flagsAreOneAndZeroAsInTwisted() -> None:
    """A flag reads 1 when given and 0 when not (Twisted's values, not True/False)."""
    opts = Basic()
    opts.parseOptions(["-v"])
    assert (repr(opts["verbose"]), repr(opts["quiet"])) == ("1", "0")


def test_usageOrdersOptionsByShortNameElseLongName() -> None:
    """getUsage lists options sorted by short name where there is one, else the long name,
    in plain string order (upper case first), as Twisted's help does."""

    class Ordered(usage.Options):
        optFlags = [["zeta", "a", ""], ["beta", None, ""]]
        optParameters = [["outfile", "O", None, ""], ["count", "c", None, ""]]

    lines = [line.split()[0] for line in Ordered().getUsage().splitlines()[1:]]
    assert lines == ["-O,", "-a,", "--beta", "-c,", "--help", "--version"]


def test_methodWithUnderscoresIsDashedInHelpAndTakesBothSpellings() -> None:
    """opt_foo_bar shows as --foo-bar in the help, as Twisted's does; --foo_bar works too."""

    class Options(usage.Options):
        calls: list[str | None]

        def opt_foo_bar(self) -> None:
            """Foo the bar."""
            self.calls.append(None)

        def opt_with_arg(self, value: str) -> None:
            """Takes one."""
            self.calls.append(value)

    help = Options().getUsage()
    assert "--foo-bar " in help and "--with-arg=" in help
    assert "foo_bar" not in help and "with_arg" not in help
    for argv in (["--foo-bar", "--with-arg=1"], ["--foo_bar", "--with_arg", "1"]):
        options = Options()
        options.calls = []
        options.parseOptions(argv)
        assert options.calls == [None, "1"]
