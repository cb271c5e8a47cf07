"""Jelly: object graphs as s-expressions, the way Perspective Broker copies data.

Encoding (Twisted-compatible; atoms are bytes)::

    1, 2.5, b"raw"          -> themselves
    "text"                  -> [b"unicode", b"text"]          (UTF-8)
    None                    -> [b"None"]
    True                    -> [b"boolean", b"true"]
    [1, 2] / (1, 2)         -> [b"list", 1, 2] / [b"tuple", 1, 2]
    {1, 2} / frozenset      -> [b"set", 1, 2] / [b"frozenset", 1, 2]
    {k: v}                  -> [b"dictionary", [k, v], ...]
    datetime/date/time/td   -> [b"datetime", b"2024 1 2 3 4 5 6"] etc.
    Decimal("1.5")          -> [b"decimal", 15, -1]
    shared or cyclic object -> [b"reference", id, <object>] then [b"dereference", id]
    registered instance     -> [b"<type tag>", <state>]

Security (the point of this module): unjellying never imports anything and never
constructs a class that was not registered, either with setUnjellyableForClass /
setUnjellyableFactoryForClass (the PB copy tags) or through
SecurityOptions.allowInstancesOf. Malformed expressions, unknown atoms, dangling
references and nesting deeper than DEPTH_LIMIT raise InsecureJelly.

Theory of operation for references: the jellier records every container it enters
in `preserved` (by id). Meeting one again "cooks" it: the first expression is
rewritten in place to [reference, n, ...] and the second becomes [dereference, n].
The unjellier registers mutable containers (list, dict, set, instances) *before*
filling them, so a dereference inside finds the real object; an immutable one
(tuple, frozenset, factory-made copy) is represented meanwhile by a `_Pending`
placeholder that remembers the list slots and dict values it was stored in and is
patched when the object is complete. A pending object inside another immutable
container (or as a dict key) cannot be patched and is refused.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

from torsion.spread.error import InsecureJelly

__all__ = [
    "DEPTH_LIMIT",
    "DummySecurityOptions",
    "LIST_DEPTH_LIMIT",
    "InsecureJelly",
    "Jellyable",
    "SecurityOptions",
    "Unjellyable",
    "Unpersistable",
    "getInstanceState",
    "globalSecurity",
    "jelly",
    "qual",
    "setInstanceState",
    "setUnjellyableFactoryForClass",
    "setUnjellyableForClass",
    "setUnjellyableForClassTree",
    "unjelly",
    "unjellyableFactoryRegistry",
    "unjellyableRegistry",
]

None_atom = b"None"
class_atom = b"class"
module_atom = b"module"
function_atom = b"function"
dereference_atom = b"dereference"
persistent_atom = b"persistent"
reference_atom = b"reference"
dictionary_atom = b"dictionary"
list_atom = b"list"
set_atom = b"set"
tuple_atom = b"tuple"
frozenset_atom = b"frozenset"
unpersistable_atom = b"unpersistable"
unicode_atom = b"unicode"
boolean_atom = b"boolean"

DEPTH_LIMIT = 50
"""Deepest nesting of containers and instances jellied."""

LIST_DEPTH_LIMIT = 150
"""Deepest nesting of expression lists unjellied (a dict level takes two, a reference
one more); bounded well below Python's recursion limit."""

_MAX_NUMBER_TEXT = 40
"""Longest text accepted for one number inside a datetime/date/time/timedelta atom."""

unjellyableRegistry: dict[bytes, Any] = {}
"""Type tag -> local class (with `unjellyFor`) or function(unjellier, jellyList)."""

unjellyableFactoryRegistry: dict[bytes, Callable[[Any], Any]] = {}
"""Type tag -> factory called with the unjellied state."""


def qual(cls: type) -> str:
    """Return the dotted name of a class: module plus qualified name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _tag(classname: str | bytes | type) -> bytes:
    if isinstance(classname, type):
        classname = qual(classname)
    if isinstance(classname, str):
        classname = classname.encode("utf-8")
    return classname


class Unpersistable:
    """What comes back in place of something that could not be serialised."""

    def __init__(self, reason: object) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unpersistable({self.reason!r})"


class Jellyable:
    """Inherit to control how an object is jellied, through `getStateFor`."""

    def getStateFor(self, jellier: _Jellier) -> Any:
        """Return the state to send; by default the instance dictionary."""
        return self.__dict__

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Return the s-expression for this object: its type tag and state."""
        sxp = jellier.prepare(self)
        sxp.extend([qual(type(self)).encode("utf-8"), jellier.jelly(self.getStateFor(jellier))])
        return jellier.preserve(self, sxp)


class Unjellyable:
    """Inherit to control how an object is rebuilt, through `setStateFor`."""

    def setStateFor(self, unjellier: _Unjellier, state: Any) -> None:
        """Install unjellied state; by default as the instance dictionary."""
        self.__dict__ = state

    def unjellyFor(self, unjellier: _Unjellier, jellyList: list[Any]) -> Any:
        """Rebuild this (blank) instance from `jellyList` and return it."""
        _arity(jellyList, 2)
        self.setStateFor(unjellier, unjellier.unjelly(jellyList[1]))
        return self


def getInstanceState(inst: Any, jellier: _Jellier) -> Any:
    """Jelly `inst` as its class name and its `__getstate__()` or `__dict__`."""
    state = inst.__getstate__() if hasattr(inst, "__getstate__") else inst.__dict__
    sxp = jellier.prepare(inst)
    sxp.extend([qual(type(inst)).encode("utf-8"), jellier.jelly(state)])
    return jellier.preserve(inst, sxp)


def setInstanceState(inst: Any, unjellier: _Unjellier, jellyList: list[Any]) -> Any:
    """Rebuild `inst` from [tag, state] through `__setstate__` or `__dict__`."""
    _arity(jellyList, 2)
    _setState(inst, unjellier.unjelly(jellyList[1]))
    return inst


def _setState(inst: Any, state: Any) -> None:
    setter = getattr(type(inst), "__setstate__", None)
    if setter is not None:
        try:
            setter(inst, state)
        except (TypeError, ValueError, AttributeError) as e:
            raise InsecureJelly(f"invalid state for {qual(type(inst))}: {e}") from e
    elif isinstance(state, dict):
        inst.__dict__ = state
    else:
        raise InsecureJelly(f"state for {qual(type(inst))} is not a dictionary")


def _arity(jellyList: list[Any], count: int) -> None:
    if len(jellyList) != count:
        raise InsecureJelly(
            f"{jellyList[0]!r} expression has {len(jellyList)} elements, expected {count}"
        )


class DummySecurityOptions:
    """Security options that allow every type, module and class.

    Even with these, unjelly never imports a module or class by name: only registered
    classes can be rebuilt.
    """

    def isModuleAllowed(self, moduleName: str | bytes) -> bool:
        """Always true."""
        return True

    def isClassAllowed(self, klass: type) -> bool:
        """Always true."""
        return True

    def isTypeAllowed(self, typeName: str | bytes) -> bool:
        """Always true."""
        return True

    def classForName(self, name: bytes) -> type | None:
        """No class is known by name to the dummy options."""
        return None


class SecurityOptions:
    """Allow-lists of jelly types, modules and classes; everything else is refused.

    A fresh instance allows only the scalar types; `allowBasicTypes` adds the
    containers and references, `allowInstancesOf` adds particular classes.
    """

    basicTypes = [
        "dictionary",
        "list",
        "tuple",
        "reference",
        "dereference",
        "unpersistable",
        "persistent",
        "long_int",
        "long",
        "dict",
    ]

    def __init__(self) -> None:
        self.allowedTypes: dict[bytes, int] = dict.fromkeys(
            [
                b"None",
                b"bool",
                b"boolean",
                b"string",
                b"str",
                b"int",
                b"float",
                b"datetime",
                b"time",
                b"date",
                b"timedelta",
                b"NoneType",
                b"unicode",
                b"decimal",
                b"set",
                b"frozenset",
            ],
            1,
        )
        self.allowedModules: dict[bytes, int] = {}
        self.allowedClasses: dict[type, int] = {}
        self._classesByName: dict[bytes, type] = {}

    def allowBasicTypes(self) -> None:
        """Allow the container and reference types."""
        self.allowTypes(*self.basicTypes)

    def allowTypes(self, *types: str | bytes | type) -> None:
        """Allow type atoms (or type tags) by name."""
        for typ in types:
            self.allowedTypes[_tag(typ)] = 1

    def allowInstancesOf(self, *classes: type) -> None:
        """Allow instances of these classes to be jellied and rebuilt with their state."""
        self.allowBasicTypes()
        self.allowTypes("instance", "class", "classobj", "module")
        for klass in classes:
            name = qual(klass).encode("utf-8")
            self.allowTypes(name)
            self.allowModules(klass.__module__)
            self.allowedClasses[klass] = 1
            self._classesByName[name] = klass

    def allowModules(self, *modules: str | bytes | ModuleType) -> None:
        """Allow modules by name (kept for Twisted compatibility; nothing is imported)."""
        for module in modules:
            if isinstance(module, ModuleType):
                module = module.__name__
            if isinstance(module, str):
                module = module.encode("utf-8")
            self.allowedModules[module] = 1

    def isModuleAllowed(self, moduleName: str | bytes) -> bool:
        """Whether a module was allowed."""
        if isinstance(moduleName, str):
            moduleName = moduleName.encode("utf-8")
        return moduleName in self.allowedModules

    def isClassAllowed(self, klass: type) -> bool:
        """Whether instances of `klass` were allowed."""
        return klass in self.allowedClasses

    def isTypeAllowed(self, typeName: str | bytes) -> bool:
        """Whether a type atom was allowed (dotted names are checked as classes later)."""
        if isinstance(typeName, str):
            typeName = typeName.encode("utf-8")
        return typeName in self.allowedTypes or b"." in typeName

    def classForName(self, name: bytes) -> type | None:
        """The allowed class jellied under `name`, if any."""
        return self._classesByName.get(name)


globalSecurity = SecurityOptions()
globalSecurity.allowBasicTypes()


def setUnjellyableForClass(classname: str | bytes | type, unjellyable: Any) -> None:
    """Set which local class (or function) rebuilds a remote type tag.

    Registering also allows the tag in `globalSecurity`: this is the only way a class
    becomes constructible by unjelly.
    """
    tag = _tag(classname)
    unjellyableRegistry[tag] = unjellyable
    globalSecurity.allowTypes(tag)


def setUnjellyableFactoryForClass(
    classname: str | bytes | type, copyFactory: Callable[[Any], Any]
) -> None:
    """Set a factory, called with the unjellied state, that rebuilds a type tag."""
    tag = _tag(classname)
    unjellyableFactoryRegistry[tag] = copyFactory
    globalSecurity.allowTypes(tag)


def setUnjellyableForClassTree(
    module: ModuleType, baseClass: type, prefix: str | None = None
) -> None:
    """Register every subclass of `baseClass` found in `module` under prefix.Name."""
    if prefix is None:
        prefix = module.__name__
    if prefix:
        prefix = prefix + "."
    for name in dir(module):
        loaded = getattr(module, name)
        if isinstance(loaded, type) and issubclass(loaded, baseClass):
            setUnjellyableForClass(f"{prefix}{name}", loaded)


class _Jellier:
    """The state of one `jelly` call: objects seen so far and reference ids."""

    def __init__(
        self,
        taster: Any,
        persistentStore: Callable[[Any, _Jellier], Any] | None,
        invoker: Any,
    ) -> None:
        self.taster = taster
        self.preserved: dict[int, list[Any]] = {}
        self.cooked: dict[int, list[Any]] = {}
        self.cooker: dict[int, object] = {}
        self._refId = 1
        self._depth = 0
        self.persistentStore = persistentStore
        self.invoker = invoker

    def prepare(self, obj: object) -> list[Any]:
        """Start jellying a container: remember it so later meetings become references."""
        oid = id(obj)
        self.preserved[oid] = []
        self.cooker[oid] = obj
        return []

    def preserve(self, obj: object, sexp: list[Any]) -> list[Any]:
        """Finish jellying a container, filling its reference wrapper if it was cooked."""
        oid = id(obj)
        if oid in self.cooked:
            wrapper = self.preserved[oid]
            wrapper[2] = sexp
            return wrapper
        self.preserved[oid] = sexp
        return sexp

    def _checkMutable(self, obj: object) -> list[Any] | None:
        oid = id(obj)
        ref = self.cooked.get(oid)
        if ref is not None:
            return ref
        existing = self.preserved.get(oid)
        if existing is None:
            return None
        refId = self._refId
        self._refId += 1
        existing[:] = [reference_atom, refId, list(existing)]
        ref = [dereference_atom, refId]
        self.cooked[oid] = ref
        return ref

    def jelly(self, obj: Any) -> Any:
        """Return the s-expression for `obj`."""
        kind = type(obj)
        if kind is bytes or kind is int or kind is float:
            return obj
        if kind is str:
            return [unicode_atom, obj.encode("utf-8")]
        if obj is None:
            return [None_atom]
        if kind is bool:
            return [boolean_atom, b"true" if obj else b"false"]
        if kind is list or kind is tuple or kind is dict or kind is set or kind is frozenset:
            ref = self._checkMutable(obj)
            if ref is not None:
                return ref
            self._enter()
            try:
                sxp = self.prepare(obj)
                jelly = self.jelly
                if kind is list:
                    sxp.append(list_atom)
                    sxp.extend([jelly(item) for item in obj])
                elif kind is tuple:
                    sxp.append(tuple_atom)
                    sxp.extend([jelly(item) for item in obj])
                elif kind is dict:
                    sxp.append(dictionary_atom)
                    sxp.extend([[jelly(key), jelly(value)] for key, value in obj.items()])
                elif kind is set:
                    sxp.append(set_atom)
                    sxp.extend([jelly(item) for item in obj])
                else:
                    sxp.append(frozenset_atom)
                    sxp.extend([jelly(item) for item in obj])
                return self.preserve(obj, sxp)
            finally:
                self._depth -= 1
        if isinstance(obj, Jellyable):
            ref = self._checkMutable(obj)
            if ref is not None:
                return ref
            self._enter()
            try:
                return obj.jellyFor(self)
            finally:
                self._depth -= 1
        if kind is datetime.datetime:
            if obj.tzinfo is not None:
                raise NotImplementedError("Currently can't jelly datetime objects with tzinfo")
            return [b"datetime", _numbers(obj.year, obj.month, obj.day, obj.hour,
                                          obj.minute, obj.second, obj.microsecond)]
        if kind is datetime.time:
            if obj.tzinfo is not None:
                raise NotImplementedError("Currently can't jelly time objects with tzinfo")
            return [b"time", _numbers(obj.hour, obj.minute, obj.second, obj.microsecond)]
        if kind is datetime.date:
            return [b"date", _numbers(obj.year, obj.month, obj.day)]
        if kind is datetime.timedelta:
            return [b"timedelta", _numbers(obj.days, obj.seconds, obj.microseconds)]
        if kind is decimal.Decimal:
            return self.jelly_decimal(obj)
        if isinstance(obj, (bytes, int, float, str, list, tuple, dict, set, frozenset)):
            raise InsecureJelly(f"cannot jelly instances of builtin subclass {qual(kind)}")
        if isinstance(obj, (type, ModuleType)) or callable(obj):
            raise InsecureJelly(f"cannot jelly code objects: {obj!r}")
        return self._jellyInstance(obj)

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > DEPTH_LIMIT:
            self._depth -= 1
            raise InsecureJelly(f"object nested more than {DEPTH_LIMIT} levels deep")

    def _jellyInstance(self, obj: Any) -> Any:
        ref = self._checkMutable(obj)
        if ref is not None:
            return ref
        sxp = self.prepare(obj)
        persistent = None
        if self.persistentStore is not None:
            persistent = self.persistentStore(obj, self)
        if persistent is not None:
            sxp.extend([persistent_atom, persistent])
        elif self.taster.isClassAllowed(type(obj)):
            self._enter()
            try:
                state = obj.__getstate__() if hasattr(obj, "__getstate__") else obj.__dict__
                sxp.extend([qual(type(obj)).encode("utf-8"), self.jelly(state)])
            finally:
                self._depth -= 1
        else:
            self.unpersistable(f"instance of class {qual(type(obj))} deemed insecure", sxp)
        return self.preserve(obj, sxp)

    def jelly_decimal(self, d: decimal.Decimal) -> list[Any]:
        """Jelly a finite Decimal as [b"decimal", signed digits, exponent]."""
        if not d.is_finite():
            raise InsecureJelly(f"cannot jelly non-finite decimal {d}")
        sign, digits, exponent = d.as_tuple()
        value = int("".join(map(str, digits)) or "0")
        return [b"decimal", -value if sign else value, exponent]

    def unpersistable(self, reason: str | bytes, sxp: list[Any] | None = None) -> list[Any]:
        """Note that an object could not be serialised: [b"unpersistable", reason]."""
        if sxp is None:
            sxp = []
        if isinstance(reason, str):
            reason = reason.encode("utf-8")
        sxp.extend([unpersistable_atom, reason])
        return sxp


def _numbers(*values: int) -> bytes:
    return " ".join(map(str, values)).encode("ascii")


class _Pending:
    """A placeholder for an immutable object whose construction is in progress."""

    __slots__ = ("dependants",)

    def __init__(self) -> None:
        self.dependants: list[tuple[Any, Any]] = []


_Handler = Callable[["_Unjellier", list[Any], "int | None"], Any]


class _Unjellier:
    """The state of one `unjelly` call: references and post-unjelly hooks."""

    def __init__(
        self,
        taster: Any,
        persistentLoad: Callable[[Any, _Unjellier], Any] | None,
        invoker: Any,
    ) -> None:
        self.taster = taster
        self.persistentLoad = persistentLoad
        self.invoker = invoker
        self.references: dict[Any, Any] = {}
        self.postCallbacks: list[Callable[[], object]] = []
        self._depth = 0

    def unjellyFull(self, obj: Any) -> Any:
        """Unjelly `obj` and run the postUnjelly hooks."""
        result = self.unjelly(obj)
        if type(result) is _Pending:
            raise InsecureJelly("unresolved reference at top level")
        for hook in self.postCallbacks:
            hook()
        return result

    def unjelly(self, obj: Any) -> Any:
        """Return the object an s-expression describes."""
        if type(obj) is not list:
            return obj
        return self._unjellyList(obj, None)

    def _unjellyList(self, obj: list[Any], refId: int | None) -> Any:
        if not obj:
            raise InsecureJelly("empty jelly expression")
        atom = obj[0]
        if type(atom) is not bytes:
            raise InsecureJelly(f"jelly type atom is not bytes: {atom!r}")
        if not self.taster.isTypeAllowed(atom):
            raise InsecureJelly(atom)
        self._depth += 1
        if self._depth > LIST_DEPTH_LIMIT:
            self._depth -= 1
            raise InsecureJelly(f"jelly nested more than {LIST_DEPTH_LIMIT} lists deep")
        try:
            handler = _HANDLERS.get(atom)
            if handler is not None:
                return handler(self, obj, refId)
            return self._unjellyRegistered(atom, obj, refId)
        finally:
            self._depth -= 1

    def _unjellyRegistered(self, atom: bytes, obj: list[Any], refId: int | None) -> Any:
        registered = unjellyableRegistry.get(atom)
        if registered is not None:
            if isinstance(registered, type):
                blank = cast(Any, registered).__new__(registered)
                self._register(refId, blank)
                method = getattr(blank, "unjellyFor", None)
                if method is not None:
                    result = method(self, obj)
                else:
                    result = setInstanceState(blank, self, obj)
            else:
                pending = self._begin(refId)
                result = registered(self, obj)
                self._finish(refId, pending, result)
            self._register(refId, result, replace=True)
            return self._maybePostUnjelly(result)
        factory = unjellyableFactoryRegistry.get(atom)
        if factory is not None:
            _arity(obj, 2)
            pending = self._begin(refId)
            result = factory(self.unjelly(obj[1]))
            self._finish(refId, pending, result)
            return self._maybePostUnjelly(result)
        klass = self.taster.classForName(atom)
        if klass is None or not self.taster.isClassAllowed(klass):
            raise InsecureJelly(f"Class {atom.decode('utf-8', 'replace')} not allowed.")
        _arity(obj, 2)
        blank = klass.__new__(klass)
        self._register(refId, blank)
        _setState(blank, self.unjelly(obj[1]))
        return self._maybePostUnjelly(blank)

    def _maybePostUnjelly(self, unjellied: Any) -> Any:
        hook = getattr(unjellied, "postUnjelly", None)
        if hook is not None:
            self.postCallbacks.append(hook)
        return unjellied

    def _register(self, refId: int | None, value: Any, replace: bool = False) -> None:
        if refId is None:
            return
        if not replace and refId in self.references:
            raise InsecureJelly(f"Multiple references with same ID {refId!r}")
        self.references[refId] = value

    def _begin(self, refId: int | None) -> _Pending | None:
        if refId is None:
            return None
        pending = _Pending()
        self._register(refId, pending)
        return pending

    def _finish(self, refId: int | None, pending: _Pending | None, value: Any) -> Any:
        if refId is not None:
            self.references[refId] = value
        if pending is not None:
            for container, key in pending.dependants:
                container[key] = value
        return value

    def _immutableElement(self, value: Any) -> Any:
        if type(value) is _Pending:
            raise InsecureJelly("cyclic reference through an immutable container")
        return value

    # Handlers: each receives the whole expression and the reference id to register.

    def _unjelly_None(self, obj: list[Any], refId: int | None) -> None:
        _arity(obj, 1)
        self._register(refId, None)

    def _unjelly_unicode(self, obj: list[Any], refId: int | None) -> str:
        _arity(obj, 2)
        data = obj[1]
        if type(data) is not bytes:
            raise InsecureJelly("unicode payload is not bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InsecureJelly(f"invalid UTF-8 in unicode atom: {e}") from None
        self._register(refId, text)
        return text

    def _unjelly_boolean(self, obj: list[Any], refId: int | None) -> bool:
        _arity(obj, 2)
        if obj[1] == b"true":
            value = True
        elif obj[1] == b"false":
            value = False
        else:
            raise InsecureJelly(f"invalid boolean {obj[1]!r}")
        self._register(refId, value)
        return value

    def _numbersOf(self, obj: list[Any], count: int) -> list[int]:
        _arity(obj, 2)
        data = obj[1]
        if type(data) is not bytes:
            raise InsecureJelly(f"{obj[0]!r} payload is not bytes")
        parts = data.split()
        if len(parts) != count or any(len(part) > _MAX_NUMBER_TEXT for part in parts):
            raise InsecureJelly(f"invalid {obj[0]!r} payload {data[:100]!r}")
        try:
            return [int(part) for part in parts]
        except ValueError:
            raise InsecureJelly(f"invalid {obj[0]!r} payload {data[:100]!r}") from None

    def _temporal(self, obj: list[Any], refId: int | None, count: int, make: Any) -> Any:
        numbers = self._numbersOf(obj, count)
        try:
            value = make(*numbers)
        except (ValueError, OverflowError) as e:
            raise InsecureJelly(f"invalid {obj[0]!r}: {e}") from None
        self._register(refId, value)
        return value

    def _unjelly_datetime(self, obj: list[Any], refId: int | None) -> datetime.datetime:
        return self._temporal(obj, refId, 7, datetime.datetime)  # type: ignore[no-any-return]

    def _unjelly_date(self, obj: list[Any], refId: int | None) -> datetime.date:
        return self._temporal(obj, refId, 3, datetime.date)  # type: ignore[no-any-return]

    def _unjelly_time(self, obj: list[Any], refId: int | None) -> datetime.time:
        return self._temporal(obj, refId, 4, datetime.time)  # type: ignore[no-any-return]

    def _unjelly_timedelta(self, obj: list[Any], refId: int | None) -> datetime.timedelta:
        def make(days: int, seconds: int, microseconds: int) -> datetime.timedelta:
            return datetime.timedelta(days=days, seconds=seconds, microseconds=microseconds)

        return self._temporal(obj, refId, 3, make)  # type: ignore[no-any-return]

    def _unjelly_decimal(self, obj: list[Any], refId: int | None) -> decimal.Decimal:
        _arity(obj, 3)
        value, exponent = obj[1], obj[2]
        if type(value) is not int or type(exponent) is not int:
            raise InsecureJelly("decimal parts must be integers")
        if abs(exponent) > 10**6:
            raise InsecureJelly("decimal exponent out of range")
        digits = tuple(int(c) for c in str(abs(value)))
        result = decimal.Decimal((1 if value < 0 else 0, digits, exponent))
        self._register(refId, result)
        return result

    def _unjelly_list(self, obj: list[Any], refId: int | None) -> list[Any]:
        result: list[Any] = []
        self._register(refId, result)
        unjelly = self.unjelly
        for index in range(1, len(obj)):
            value = unjelly(obj[index])
            if type(value) is _Pending:
                value.dependants.append((result, index - 1))
            result.append(value)
        return result

    def _unjelly_tuple(self, obj: list[Any], refId: int | None) -> tuple[Any, ...]:
        pending = self._begin(refId)
        unjelly = self.unjelly
        check = self._immutableElement
        result = tuple([check(unjelly(item)) for item in obj[1:]])
        self._finish(refId, pending, result)
        return result

    def _unjelly_set(self, obj: list[Any], refId: int | None) -> set[Any]:
        result: set[Any] = set()
        self._register(refId, result)
        check = self._immutableElement
        for item in obj[1:]:
            result.add(_hashable(check(self.unjelly(item))))
        return result

    def _unjelly_frozenset(self, obj: list[Any], refId: int | None) -> frozenset[Any]:
        pending = self._begin(refId)
        check = self._immutableElement
        result = frozenset([_hashable(check(self.unjelly(item))) for item in obj[1:]])
        self._finish(refId, pending, result)
        return result

    def _unjelly_dictionary(self, obj: list[Any], refId: int | None) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        self._register(refId, result)
        unjelly = self.unjelly
        for pair in obj[1:]:
            if type(pair) is not list or len(pair) != 2:
                raise InsecureJelly("dictionary item is not a [key, value] pair")
            key = _hashable(self._immutableElement(unjelly(pair[0])))
            value = unjelly(pair[1])
            if type(value) is _Pending:
                value.dependants.append((result, key))
            result[key] = value
        return result

    def _unjelly_reference(self, obj: list[Any], refId: int | None) -> Any:
        _arity(obj, 3)
        newId = obj[1]
        if type(newId) is not int:
            raise InsecureJelly("reference id is not an integer")
        if newId in self.references:
            raise InsecureJelly(f"Multiple references with same ID {newId!r}")
        expression = obj[2]
        if type(expression) is not list:
            self._register(newId, expression)
            result = expression
        else:
            result = self._unjellyList(expression, newId)
        self._register(refId, result)
        return result

    def _unjelly_dereference(self, obj: list[Any], refId: int | None) -> Any:
        _arity(obj, 2)
        try:
            return self.references[obj[1]]
        except (KeyError, TypeError):
            raise InsecureJelly(f"dereference of unknown id {obj[1]!r}") from None

    def _unjelly_unpersistable(self, obj: list[Any], refId: int | None) -> Unpersistable:
        _arity(obj, 2)
        result = Unpersistable(f"Unpersistable data: {obj[1]!r}")
        self._register(refId, result)
        return result

    def _unjelly_persistent(self, obj: list[Any], refId: int | None) -> Any:
        _arity(obj, 2)
        if self.persistentLoad is not None:
            result = self.persistentLoad(obj[1], self)
        else:
            result = Unpersistable("Persistent callback not found")
        self._register(refId, result)
        return result


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        raise InsecureJelly(f"unhashable {type(value).__name__} used as a key") from None
    return value


_HANDLERS: dict[bytes, _Handler] = {
    b"None": _Unjellier._unjelly_None,
    b"unicode": _Unjellier._unjelly_unicode,
    b"boolean": _Unjellier._unjelly_boolean,
    b"datetime": _Unjellier._unjelly_datetime,
    b"date": _Unjellier._unjelly_date,
    b"time": _Unjellier._unjelly_time,
    b"timedelta": _Unjellier._unjelly_timedelta,
    b"decimal": _Unjellier._unjelly_decimal,
    b"list": _Unjellier._unjelly_list,
    b"tuple": _Unjellier._unjelly_tuple,
    b"set": _Unjellier._unjelly_set,
    b"frozenset": _Unjellier._unjelly_frozenset,
    b"dictionary": _Unjellier._unjelly_dictionary,
    b"reference": _Unjellier._unjelly_reference,
    b"dereference": _Unjellier._unjelly_dereference,
    b"unpersistable": _Unjellier._unjelly_unpersistable,
    b"persistent": _Unjellier._unjelly_persistent,
}


def jelly(
    obj: Any,
    taster: Any = None,
    persistentStore: Callable[[Any, _Jellier], Any] | None = None,
    invoker: Any = None,
) -> Any:
    """Serialise `obj` to an s-expression.

    `taster` (SecurityOptions) decides which class instances are sent with their state;
    instances of other classes become [b"unpersistable", reason]. The default allows
    all classes, as Twisted's does.
    """
    if taster is None:
        taster = DummySecurityOptions()
    return _Jellier(taster, persistentStore, invoker).jelly(obj)


def unjelly(
    sexp: Any,
    taster: Any = None,
    persistentLoad: Callable[[Any, _Unjellier], Any] | None = None,
    invoker: Any = None,
) -> Any:
    """Rebuild an object from an s-expression.

    The default `taster` is `globalSecurity` (unlike Twisted, whose default allows
    everything): only registered types are rebuilt; anything else raises InsecureJelly.
    """
    if taster is None:
        taster = globalSecurity
    return _Unjellier(taster, persistentLoad, invoker).unjellyFull(sexp)
