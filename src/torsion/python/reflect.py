"""Names to objects and back: import by dotted name, qualified names, method lookup by prefix.

Used by the runner (plugins and `--reactor` names), the usage module and user code that
configures behaviour by dotted names. `namedAny` tells apart "the module you named does not
exist" (`ModuleNotFound`) from "it exists but its import failed" (the original exception
propagates with its traceback), which is what makes a broken plugin report its real error.

Errors:

    Exception
     ├─ InvalidName             the string is not a dotted Python name
     │   ├─ ModuleNotFound      no module of that name
     │   └─ ObjectNotFound      the module exists, the attribute does not
     └─ (whatever the imported module raised while importing, unchanged)
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = [
    "InvalidName",
    "ModuleNotFound",
    "ObjectNotFound",
    "accumulateClassList",
    "addMethodNamesToDict",
    "fullyQualifiedName",
    "namedAny",
    "namedClass",
    "namedModule",
    "namedObject",
    "prefixedMethodNames",
    "prefixedMethods",
    "qual",
    "requireModule",
    "safe_repr",
    "safe_str",
]


class InvalidName(ValueError):
    """The given name is not a dotted Python name."""


class ModuleNotFound(InvalidName):
    """No module exists under the given name."""


class ObjectNotFound(InvalidName):
    """The module was found but the named object is not in it."""


def namedModule(name: str) -> ModuleType:
    """Import and return the module with the dotted `name`."""
    return importlib.import_module(name)


def namedObject(name: str) -> Any:
    """Return the attribute named by the last part of `name` from the module named by the rest."""
    moduleName, _, objectName = name.rpartition(".")
    if not moduleName:
        raise InvalidName(f"{name!r} does not name an object inside a module")
    return getattr(namedModule(moduleName), objectName)


namedClass = namedObject


def namedAny(name: str) -> Any:
    """Return the module, class, function or attribute named by the dotted `name`.

    The longest importable module prefix is imported and the rest is walked by getattr.
    Raises InvalidName for an empty or malformed name, ModuleNotFound for a single name that
    is not a module, ObjectNotFound when a dotted name resolves to nothing (no module prefix
    imports, or an attribute is missing); an exception raised while importing an existing
    module propagates unchanged.
    """
    if not name:
        raise InvalidName("Empty module name")
    names = name.split(".")
    if "" in names:
        raise InvalidName(f"name must be a string giving a '.'-separated list of Python "
                          f"identifiers, not {name!r}")
    topLevel: ModuleType | None = None
    remaining = names[:]
    while topLevel is None:
        if not remaining:
            if len(names) == 1:
                raise ModuleNotFound(f"No module named {name!r}")
            raise ObjectNotFound(f"{name!r} does not name an object")
        trial = ".".join(remaining)
        try:
            topLevel = importlib.import_module(trial)
        except ModuleNotFoundError as e:
            if e.name is None or not (e.name == trial or trial.startswith(e.name + ".")):
                raise  # an existing module's own import failed: that is the real error
            remaining.pop()
    obj: Any = topLevel
    for i in range(len(remaining), len(names)):
        try:
            obj = getattr(obj, names[i])
        except AttributeError:
            raise ObjectNotFound(
                f"{name!r} does not name an object "
                f"({'.'.join(names[:i])} has no attribute {names[i]!r})"
            ) from None
    return obj


def requireModule(name: str, default: Any = None) -> Any:
    """Import the module `name`, or return `default` if it cannot be imported."""
    try:
        return namedModule(name)
    except ImportError:
        return default


def qual(clazz: type) -> str:
    """The fully qualified name of a class: ``module.QualName``."""
    return clazz.__module__ + "." + clazz.__qualname__


def fullyQualifiedName(obj: Any) -> str:
    """The dotted name of a module, class, function or bound method, for messages and logs."""
    try:
        name: str = obj.__qualname__
    except AttributeError:
        name = obj.__name__
    if isinstance(obj, ModuleType):
        return name
    self = getattr(obj, "__self__", None)
    if self is not None and not isinstance(self, ModuleType):
        owner = self if isinstance(self, type) else type(self)
        return f"{fullyQualifiedName(owner)}.{obj.__name__}"
    module = getattr(obj, "__module__", None)
    if module:
        return f"{module}.{name}"
    return name


def safe_repr(o: object) -> str:
    """repr(o), or a description of the exception repr raised: never raises itself."""
    try:
        return repr(o)
    except BaseException as e:
        return _safeFormat(o, "repr", e)


def safe_str(o: object) -> str:
    """str(o) (bytes decoded as UTF-8 with backslash escapes), falling back like safe_repr."""
    if isinstance(o, bytes):
        return o.decode("utf-8", "backslashreplace")
    try:
        return str(o)
    except BaseException as e:
        return _safeFormat(o, "str", e)


def _safeFormat(o: object, what: str, error: BaseException) -> str:
    try:
        className = type(o).__qualname__
    except BaseException:
        className = "<BROKEN CLASS>"
    return (f"<{className} instance at 0x{id(o):x} with {what} error:\n"
            f"{''.join(traceback.format_exception(error))}>")


def accumulateClassList(classObj: type, attr: str, listObj: list[Any],
                        baseClass: type | None = None) -> None:
    """Extend `listObj` with the list attribute `attr` of every class in `classObj`'s
    hierarchy, bases first (each class's own value, found in its ``__dict__``)."""
    for base in classObj.__bases__:
        accumulateClassList(base, attr, listObj)
    if baseClass is None or baseClass in classObj.__bases__:
        listObj.extend(classObj.__dict__.get(attr, []))


def addMethodNamesToDict(classObj: type, dict: dict[str, int], prefix: str,
                         baseClass: type | None = None) -> None:
    """Add to `dict` the name, minus `prefix`, of each method starting with `prefix` in
    `classObj` and its bases (value 1, as Twisted does)."""
    for base in classObj.__bases__:
        addMethodNamesToDict(base, dict, prefix, baseClass)
    if baseClass is None or baseClass in classObj.__bases__:
        for name, method in classObj.__dict__.items():
            optName = name[len(prefix):]
            if name.startswith(prefix) and callable(method) and optName:
                dict[optName] = 1


def prefixedMethodNames(classObj: type, prefix: str) -> list[str]:
    """The names (prefix removed) of all methods of `classObj` that start with `prefix`."""
    names: dict[str, int] = {}
    addMethodNamesToDict(classObj, names, prefix)
    return list(names)


def prefixedMethods(obj: object, prefix: str = "") -> list[Callable[..., Any]]:
    """The bound methods of `obj` whose names start with `prefix`."""
    methods: list[Callable[..., Any]] = []
    seen: set[str] = set()
    for klass in type(obj).__mro__:
        for name, value in klass.__dict__.items():
            if name.startswith(prefix) and callable(value) and name not in seen:
                seen.add(name)
                methods.append(getattr(obj, name))
    return methods
