"""Tests for torsion.spread.jelly: the object-graph encoding and its security rules."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest

from torsion.spread import jelly as jellymod
from torsion.spread.jelly import (
    InsecureJelly,
    SecurityOptions,
    Unpersistable,
    jelly,
    setUnjellyableForClass,
    unjelly,
)


class Point:
    """A class explicitly allowed through SecurityOptions.allowInstancesOf."""

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


class Registered(jellymod.Unjellyable):
    """A class registered as the local copy of a type tag."""


setUnjellyableForClass(b"test.jelly.Registered", Registered)


class Constructed:
    """A class that records every instance built, to prove none was."""

    built = 0

    def __new__(cls) -> Constructed:
        Constructed.built += 1
        return super().__new__(cls)


def roundTrip(value: object) -> Any:
    return unjelly(jelly(value))


@pytest.mark.parametrize(
    "value",
    [
        0,
        -(2**200),
        1.25,
        b"bytes",
        "unicod\u00e9",
        None,
        True,
        False,
        [1, [2, [3]]],
        (1, (2,)),
        {"a": 1, 2: [b"x"]},
        {1, 2, 3},
        frozenset({b"a", (1, 2)}),
        datetime.datetime(2024, 2, 29, 23, 59, 58, 123456),
        datetime.date(1999, 12, 31),
        datetime.time(1, 2, 3, 4),
        datetime.timedelta(days=-3, seconds=5, microseconds=7),
        decimal.Decimal("-12.340"),
        decimal.Decimal("0"),
        decimal.Decimal("1E+5"),
    ],
)
def test_roundTrip(value: object) -> None:
    """Every supported type comes back equal and of the same type."""
    result = roundTrip(value)
    assert result == value
    assert type(result) is type(value)


def test_twistedEncodings() -> None:
    """The s-expressions are Twisted's: atoms as bytes, text as unicode."""
    assert jelly(["a", None, True, (1,)]) == [
        b"list",
        [b"unicode", b"a"],
        [b"None"],
        [b"boolean", b"true"],
        [b"tuple", 1],
    ]
    assert jelly({1: 2}) == [b"dictionary", [1, 2]]
    assert jelly(decimal.Decimal("1.5")) == [b"decimal", 15, -1]
    assert jelly(datetime.date(2020, 1, 2)) == [b"date", b"2020 1 2"]


def test_sharedObjectStaysShared() -> None:
    """An object referenced twice is one object after the round trip."""
    shared = [1]
    result = roundTrip([shared, shared])
    assert result[0] is result[1]


def test_selfReferencingList() -> None:
    """A list containing itself comes back containing itself."""
    value: list[Any] = [1]
    value.append(value)
    result = roundTrip(value)
    assert result[1] is result


def test_cycleThroughDict() -> None:
    """A dict whose value refers back to it round-trips the cycle."""
    value: dict[str, Any] = {}
    value["me"] = [value]
    result = roundTrip(value)
    assert result["me"][0] is result


def test_tupleCycleThroughList() -> None:
    """A tuple reachable from a list inside it is patched in after it is built."""
    inner: list[Any] = []
    value = (inner,)
    inner.append(value)
    result = roundTrip(value)
    assert result[0][0] is result


def test_setCycleThroughInstance() -> None:
    """A set holding an allowed instance that refers to the set round-trips."""
    options = SecurityOptions()
    options.allowInstancesOf(Point)
    s: set[Any] = set()
    p = Point(1, 2)
    p.x = s  # type: ignore[assignment]
    s.add(p)
    result = unjelly(jelly(s, options), options)
    (point,) = result
    assert point.x is result


def test_allowedInstanceRoundTrips() -> None:
    """An instance of a class allowed by the security options is rebuilt."""
    options = SecurityOptions()
    options.allowInstancesOf(Point)
    result = unjelly(jelly(Point(1, 2), options), options)
    assert isinstance(result, Point) and (result.x, result.y) == (1, 2)


def test_disallowedInstanceJelliesAsUnpersistable() -> None:
    """An instance of a class the jellier may not send becomes unpersistable."""
    result = roundTrip_global(Point(1, 2))
    assert isinstance(result, Unpersistable)


def roundTrip_global(value: object) -> Any:
    return unjelly(jelly(value, jellymod.globalSecurity))


def test_registeredClassIsBuilt() -> None:
    """A registered type tag is rebuilt with its registered class."""
    result = unjelly([b"test.jelly.Registered", [b"dictionary", [[b"unicode", b"a"], 1]]])
    assert isinstance(result, Registered) and result.a == 1


def test_unregisteredClassNeverConstructed() -> None:
    """A dotted class name that is not registered is refused, nothing imported or built."""
    before = Constructed.built
    name = f"{Constructed.__module__}.Constructed".encode()
    with pytest.raises(InsecureJelly):
        unjelly([name, [b"dictionary"]])
    with pytest.raises(InsecureJelly):
        unjelly([b"os.system", b"echo hi"])
    assert Constructed.built == before


@pytest.mark.parametrize(
    "expression",
    [
        [b"class", b"os.system"],
        [b"module", b"os"],
        [b"function", b"os.system"],
        [b"instance", [b"class", b"os.Foo"], [b"dictionary"]],
        [b"method", b"system", [b"None"], [b"module", b"os"]],
    ],
)
def test_codeAtomsRefused(expression: list[Any]) -> None:
    """Classes, modules, functions and methods are never unjellied."""
    with pytest.raises(InsecureJelly):
        unjelly(expression)


def test_freshSecurityOptionsRefuseContainers() -> None:
    """SecurityOptions() without allowBasicTypes refuses lists."""
    with pytest.raises(InsecureJelly):
        unjelly([b"list", 1], SecurityOptions())


@pytest.mark.parametrize(
    "expression",
    [
        [],
        [1, 2],
        [b"unicode", b"\xff"],
        [b"unicode"],
        [b"boolean", b"maybe"],
        [b"datetime", b"2024 13 1 0 0 0 0"],
        [b"datetime", b"1 2"],
        [b"date", b"x y z"],
        [b"date", b"1" * 100 + b" 1 1"],
        [b"decimal", 1, b"n"],
        [b"decimal", 1, 10**9],
        [b"dereference", 99],
        [b"reference", 1, [b"list", [b"reference", 1, [b"list"]]]],
        [b"dictionary", [1]],
        [b"dictionary", [[b"list"], 1]],
        [b"set", [b"list"]],
        [b"None", 1],
        [b"nonsense"],
    ],
)
def test_malformedExpressionsRaiseInsecureJelly(expression: list[Any]) -> None:
    """Malformed input raises InsecureJelly, never another exception."""
    with pytest.raises(InsecureJelly):
        unjelly(expression)


def test_deepUnjellyRefused() -> None:
    """Expressions nested deeper than LIST_DEPTH_LIMIT are refused."""
    value: Any = [b"list"]
    for _ in range(jellymod.LIST_DEPTH_LIMIT + 1):
        value = [b"list", value]
    with pytest.raises(InsecureJelly):
        unjelly(value)


def test_deepJellyRefused() -> None:
    """Objects nested deeper than DEPTH_LIMIT are refused when jellied."""
    value: Any = []
    for _ in range(jellymod.DEPTH_LIMIT + 1):
        value = [value]
    with pytest.raises(InsecureJelly):
        jelly(value)


def test_tzinfoDatetimeNotJellied() -> None:
    """A timezone-aware datetime is refused rather than silently made naive."""
    with pytest.raises(NotImplementedError):
        jelly(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))


def test_functionsNotJellied() -> None:
    """Functions and classes are not sent."""
    with pytest.raises(InsecureJelly):
        jelly(len)


def test_postUnjellyHookRuns() -> None:
    """A rebuilt object's postUnjelly runs after the whole graph is built."""

    class Hooked(jellymod.Unjellyable):
        def postUnjelly(self) -> None:
            self.done = True

    setUnjellyableForClass(b"test.jelly.Hooked", Hooked)
    result = unjelly([b"test.jelly.Hooked", [b"dictionary"]])
    assert result.done is True


def test_persistentStoreAndLoad() -> None:
    """Objects the persistentStore names travel as ids and come back through persistentLoad."""
    registry = {b"id-1": object()}

    def store(obj: Any, jellier: Any) -> Any:
        return b"id-1" if obj is registry[b"id-1"] else None

    def load(ident: Any, unjellier: Any) -> Any:
        return registry[ident]

    options = SecurityOptions()
    options.allowBasicTypes()
    sexp = jelly([registry[b"id-1"]], options, persistentStore=store)
    assert unjelly(sexp, options, persistentLoad=load)[0] is registry[b"id-1"]


def test_factoryRegistration() -> None:
    """A type tag registered with a factory is rebuilt by calling it with the state."""
    jellymod.setUnjellyableFactoryForClass(b"test.jelly.Made", lambda state: ("made", state))
    assert unjelly([b"test.jelly.Made", 5]) == ("made", 5)


def test_classTreeRegistration() -> None:
    """setUnjellyableForClassTree registers every subclass found in a module."""
    import types

    module = types.ModuleType("treemod")

    class Base(jellymod.Unjellyable):
        pass

    class Leaf(Base):
        pass

    module.Leaf = Leaf  # type: ignore[attr-defined]
    jellymod.setUnjellyableForClassTree(module, Base)
    assert isinstance(unjelly([b"treemod.Leaf", [b"dictionary"]]), Leaf)
