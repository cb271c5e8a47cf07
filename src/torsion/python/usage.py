"""Command-line option parsing the Twisted way: declare options on a class, get a dict.

Theory of operation: an `Options` subclass declares its options as data (`optFlags`,
`optParameters`, the deprecated `optionals`, each collected along the MRO so subclasses extend
their bases) and as behaviour (`opt_name` methods: one taking an argument is a parameter, one
taking none is a flag; `opt_x = opt_name` gives a short alias). `parseOptions(argv)` builds a
getopt specification from both, walks the parsed pairs in order calling one dispatcher per
option, then hands the words after the first positional one to the sub-command it names
(with no positional word, `defaultSubCommand` runs with none), checks the remaining
positionals against `parseArgs`'s signature, and finally calls `postOptions()`.
Parsing stops at the first positional word (POSIX getopt), so
``torsion --logfile x web --port 8080`` gives ``--port`` to ``web``.

Errors: every user mistake raises `UsageError` with a message that names the bad option.
"""

from __future__ import annotations

import getopt
import inspect
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "CoerceParameter",
    "Options",
    "UsageError",
    "error",
    "portCoerce",
]


class UsageError(Exception):
    """The command line is wrong: the message says what to fix."""


error = UsageError


def portCoerce(value: str) -> int:
    """Coerce a string to a TCP/UDP port number (0-65535), raising ValueError otherwise."""
    port = int(value)
    if port < 0 or port > 65535:
        raise ValueError(f"Port number not in range: {value}")
    return port


portCoerce.coerceDoc = "Must be an int between 0 and 65535."  # type: ignore[attr-defined]


class CoerceParameter:
    """A dispatcher that coerces a parameter's text and stores it in the options dict.

    Coercion failures become UsageError naming the parameter, so a typo in a port number
    reads as a usage problem rather than a traceback.
    """

    def __init__(self, options: Options, coerce: Callable[[str], Any]) -> None:
        self.options = options
        self.coerce = coerce
        self.doc: str | None = getattr(coerce, "coerceDoc", None)

    def dispatch(self, parameterName: str, value: str | None) -> None:
        """Coerce `value` and store it under `parameterName`."""
        if value is None:
            raise UsageError(f"Parameter '{parameterName}' requires an argument.")
        try:
            converted = self.coerce(value)
        except ValueError as e:
            raise UsageError(f"Parameter type enforcement failed: {e}") from e
        self.options.opts[parameterName] = converted


_Dispatcher = Callable[[str, "str | None"], None]


def _collect(cls: type, attr: str) -> list[list[Any]]:
    """Gather the list attribute `attr` from `cls` and its bases, most-derived first."""
    seen: set[int] = set()
    result: list[list[Any]] = []
    for klass in cls.__mro__:
        value = klass.__dict__.get(attr)
        if value is None or id(value) in seen:
            continue
        seen.add(id(value))
        result.extend(list(entry) for entry in value)
    return result


def _methodTakesArgument(method: Callable[..., Any]) -> bool:
    """Whether an opt_ method (bound) wants the option's value as an argument."""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return False
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        for p in params
    )


class Options(dict[str, Any]):
    """A parsed command line: a dict of option values, plus declarations of what to accept.

    Subclass it and set `optFlags = [[long, short, doc], ...]`,
    `optParameters = [[long, short, default, doc, coerce], ...]` (trailing items optional),
    `subCommands = [[name, shortcut, OptionsClass, doc], ...]`, `defaultSubCommand`,
    `longdesc`, and define `opt_name` methods, `parseArgs(*args)` and `postOptions()`.
    `compData` and `completionData` are accepted and ignored (no shell completion).
    """

    subCommand: str | None = None
    subOptions: Options | None = None
    defaultSubCommand: str | None = None
    parent: Options | None = None
    longdesc: str | None = None
    optFlags: Sequence[Sequence[Any]] | None = None
    optParameters: Sequence[Sequence[Any]] | None = None
    optionals: Sequence[Sequence[Any]] | None = None
    subCommands: Sequence[Sequence[Any]] | None = None
    compData: Any = None
    completionData: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.opts: dict[str, Any] = self
        self.defaults: dict[str, Any] = {}
        self.docs: dict[str, str] = {}
        self.synonyms: dict[str, str] = {}
        self._dispatch: dict[str, _Dispatcher] = {}
        self._takesArg: dict[str, bool] = {}
        self._shortNames: set[str] = set()
        self._gatherDeclarations()
        self._gatherMethods()
        self._addSpellings()
        self.update(self.defaults)

    # dict subclasses are unhashable by default; an Options is an object with identity.
    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)

    # -- declarations -------------------------------------------------------------------

    def _addName(self, long: str, short: str | None, takesArg: bool, doc: str | None) -> None:
        if long in self._takesArg:
            return  # a subclass declaration already won
        self._takesArg[long] = takesArg
        self.synonyms[long] = long
        if short:
            if len(short) != 1:
                raise ValueError(f"Short option for {long!r} must be one character: {short!r}")
            self.synonyms[short] = long
            self._shortNames.add(short)
        if doc:
            self.docs[long] = doc

    def _gatherDeclarations(self) -> None:
        cls = type(self)
        for entry in _collect(cls, "optFlags"):
            entry = entry + [None] * (3 - len(entry))
            long, short, doc = entry[0], entry[1], entry[2]
            if long in self._takesArg:
                continue
            self._addName(long, short, False, doc)
            self.defaults[long] = 0  # Twisted's flags are 0/1, not booleans
            self._dispatch[long] = self._flagDispatcher
        for entry in _collect(cls, "optParameters") + _collect(cls, "optionals"):
            entry = entry + [None] * (5 - len(entry))
            long, short, default, doc, coerce = entry[:5]
            if long in self._takesArg:
                continue
            self._addName(long, short, True, doc)
            self.defaults[long] = default
            if coerce is not None:
                dispatcher = CoerceParameter(self, coerce)
                if dispatcher.doc and doc:
                    self.docs[long] = f"{doc} {dispatcher.doc}"
                self._dispatch[long] = dispatcher.dispatch
            else:
                self._dispatch[long] = self._paramDispatcher

    def _gatherMethods(self) -> None:
        """Register every opt_ method; other names bound to the same function alias it."""
        byName: dict[str, Any] = {}
        for klass in type(self).__mro__:
            for name, value in klass.__dict__.items():
                if name.startswith("opt_") and callable(value):
                    byName.setdefault(name, value)
        byFunction: dict[Any, list[str]] = {}
        for name, func in byName.items():
            byFunction.setdefault(func, []).append(name[4:])
        for func, optNames in byFunction.items():
            # The longest name is the canonical one; the others (usually one letter) alias it.
            optNames.sort(key=lambda n: (-len(n), n))
            method = getattr(self, "opt_" + optNames[0])
            long = optNames[0]
            if long not in self._takesArg:
                # opt_foo_bar is --foo-bar, as in Twisted's help (--foo_bar is accepted too),
                # and opt_log_format handles a "log-format" declared in data.
                long = long.replace("_", "-")
            takesArg = _methodTakesArgument(method)
            doc = inspect.getdoc(func)
            if long in self._takesArg:
                # Declared in data and handled by a method: the method does the dispatch.
                self._takesArg[long] = takesArg
                if doc and long not in self.docs:
                    self.docs[long] = doc.strip()
            else:
                self._addName(long, None, takesArg, doc.strip() if doc else None)
            self._dispatch[long] = self._methodDispatcher(method, takesArg)
            for alias in optNames[1:]:
                if alias not in self.synonyms:
                    self.synonyms[alias] = long
                    if len(alias) == 1:
                        self._shortNames.add(alias)

    def _addSpellings(self) -> None:
        """Accept --foo-bar for foo_bar and --foo_bar for foo-bar, as Twisted does."""
        for long in list(self._takesArg):
            for other in (long.replace("_", "-"), long.replace("-", "_")):
                self.synonyms.setdefault(other, long)

    def _flagDispatcher(self, name: str, value: str | None) -> None:
        self.opts[name] = 1

    def _paramDispatcher(self, name: str, value: str | None) -> None:
        self.opts[name] = value

    def _methodDispatcher(self, method: Callable[..., Any], takesArg: bool) -> _Dispatcher:
        def dispatch(name: str, value: str | None) -> None:
            if takesArg:
                method(value)
            else:
                method()

        return dispatch

    # -- parsing ------------------------------------------------------------------------

    def _getoptSpec(self) -> tuple[str, list[str]]:
        shortOpts = ""
        longOpts: list[str] = []
        for name, long in self.synonyms.items():
            takesArg = self._takesArg[long]
            if name in self._shortNames:
                shortOpts += name + (":" if takesArg else "")
            else:
                longOpts.append(name + ("=" if takesArg else ""))
        return shortOpts, longOpts

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        """Parse `options` (default: sys.argv[1:]) into this dict, then validate.

        Raises UsageError for unknown options, missing values, bad coercions, wrong
        positional arity, and anything postOptions() rejects.
        """
        if options is None:
            options = sys.argv[1:]
        shortOpts, longOpts = self._getoptSpec()
        try:
            pairs, args = getopt.getopt(list(options), shortOpts, longOpts)
        except getopt.GetoptError as e:
            raise UsageError(str(e)) from e

        for opt, arg in pairs:
            long = self.synonyms[opt.lstrip("-")]
            self._dispatch[long](long, arg if self._takesArg[long] else None)

        if self.subCommands:
            subCommands = self._subCommandTable()
            if args:
                if args[0] not in subCommands:
                    raise UsageError(f"Unknown command: {args[0]}")
                name, parserClass = subCommands[args[0]]
                self._runSubCommand(name, parserClass, args[1:])
                args = []
            elif self.defaultSubCommand is not None:
                name, parserClass = subCommands[self.defaultSubCommand]
                self._runSubCommand(name, parserClass, [])

        try:
            self.parseArgs(*args)
        except TypeError as e:
            raise UsageError("Wrong number of arguments.") from e
        self.postOptions()

    def _subCommandTable(self) -> dict[str, tuple[str, type[Options]]]:
        table: dict[str, tuple[str, type[Options]]] = {}
        for entry in self.subCommands or ():
            name, shortcut, parserClass = entry[0], entry[1], entry[2]
            table[name] = (name, parserClass)
            if shortcut:
                table[shortcut] = (name, parserClass)
        return table

    def _runSubCommand(self, name: str, parserClass: Callable[[], Options],
                       args: list[str]) -> None:
        sub = parserClass()
        sub.parent = self
        self.subCommand = name
        self.subOptions = sub
        sub.parseOptions(args)

    def parseArgs(self) -> None:
        """Accept the positional arguments; by default there must be none.

        Override with the parameters you want: the call's arity is the check, so
        ``def parseArgs(self, src, dst=None)`` accepts one or two words.
        """

    def postOptions(self) -> None:
        """Check the parsed options as a whole; raise UsageError to reject them."""

    # -- built-in options ---------------------------------------------------------------

    def opt_help(self) -> None:
        """Display this help and exit."""
        print(self.__str__())
        sys.exit(0)

    def opt_version(self) -> None:
        """Display torsion version and exit."""
        from torsion import __version__

        print(os.path.basename(sys.argv[0]) + " (torsion) " + __version__)
        sys.exit(0)

    # -- help text ----------------------------------------------------------------------

    def getSynopsis(self) -> str:
        """The "Usage: ..." line; a sub-command's line starts with its parent's."""
        options = "[options]" if self._takesArg else ""
        if self.parent is None:
            default = f"Usage: {os.path.basename(sys.argv[0])} {options}"
        else:
            default = options
        synopsis = str(getattr(self, "synopsis", default)).rstrip()
        if self.parent is not None:
            parts = (self.parent.getSynopsis(), self.parent.subCommand or "", synopsis)
            synopsis = " ".join(p for p in parts if p)
        return synopsis

    def getUsage(self, width: int | None = None) -> str:
        """The help text: one line per option with its aliases, default and doc, then
        sub-commands and `longdesc`."""
        if width is None:
            width = int(os.environ.get("COLUMNS", "80"))
        rows: list[tuple[str, str]] = []
        shortOf: dict[str, str] = {}
        for name, long in self.synonyms.items():
            if name in self._shortNames and long not in shortOf:
                shortOf[long] = name
        # Twisted orders the options by their short name where they have one, else the
        # long one (plain string order, so -O comes before -c).
        for long in sorted(self._takesArg, key=lambda n: shortOf.get(n) or n):
            short = shortOf.get(long)
            left = (f"-{short}, " if short else "    ") + f"--{long}"
            if self._takesArg[long]:
                left += "="
            doc = self.docs.get(long, "")
            default = self.defaults.get(long)
            if self._takesArg[long] and default is not None:
                doc = f"{doc} [default: {default}]".strip()
            rows.append((left, doc))
        lines: list[str] = []
        if rows:
            lines.append("Options:")
            colWidth = min(max(len(left) for left, _ in rows) + 2, 34)
            for left, doc in rows:
                wrapped = textwrap.wrap(doc, max(width - colWidth - 2, 20)) or [""]
                if len(left) + 2 > colWidth:
                    lines.append("  " + left)
                    lines.extend(" " * (colWidth + 2) + w for w in wrapped)
                else:
                    lines.append("  " + left.ljust(colWidth) + wrapped[0])
                    lines.extend(" " * (colWidth + 2) + w for w in wrapped[1:])
        if self.subCommands:
            lines.append("Commands:")
            entries = [(str(e[0]), str(e[1] or ""), str(e[3] if len(e) > 3 else "")) for e in
                       self.subCommands]
            nameWidth = max(len(n) for n, _, _ in entries) + 2
            for name, shortcut, doc in entries:
                label = name + (f" ({shortcut})" if shortcut else "")
                lines.append("    " + label.ljust(nameWidth + 4) + doc)
        longdesc = self.longdesc
        if longdesc is None:
            longdesc = inspect.getdoc(type(self)) if type(self).__doc__ else None
            if longdesc == inspect.getdoc(Options):
                longdesc = None
        if longdesc:
            lines.append("")
            lines.extend(textwrap.fill(p, width) for p in longdesc.strip().split("\n\n"))
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.getSynopsis() + "\n" + self.getUsage(width=None)
