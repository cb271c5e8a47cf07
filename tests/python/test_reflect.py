"""Tests for torsion.python.reflect: dotted names to objects and back."""

from __future__ import annotations

import os.path
import sys
from pathlib import Path

import pytest

from torsion.python import reflect


def test_namedAnyModuleClassAndAttribute() -> None:
    """namedAny resolves modules, nested attributes and functions."""
    assert reflect.namedAny("os.path") is os.path
    assert reflect.namedAny("os.path.join") is os.path.join
    assert reflect.namedAny("torsion.python.reflect.qual") is reflect.qual


def test_namedAnyMissingModule() -> None:
    """A single unknown name raises ModuleNotFound."""
    with pytest.raises(reflect.ModuleNotFound):
        reflect.namedAny("no_such_module_xyz")


def test_namedAnyDottedNameWithoutModule() -> None:
    """A dotted name whose first part is no module raises ObjectNotFound, as in Twisted."""
    with pytest.raises(reflect.ObjectNotFound):
        reflect.namedAny("no_such_module_xyz.thing")


def test_namedAnyMissingAttribute() -> None:
    """An unknown attribute of an existing module raises ObjectNotFound naming it."""
    with pytest.raises(reflect.ObjectNotFound, match="nope"):
        reflect.namedAny("os.path.nope")


def test_namedAnyInvalidName() -> None:
    """Empty names and empty components raise InvalidName."""
    for bad in ("", "os..path", ".os"):
        with pytest.raises(reflect.InvalidName):
            reflect.namedAny(bad)


def test_namedAnyPropagatesBrokenImport(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that exists but fails while importing raises its own error, not NotFound."""
    (tmp_path / "broken_mod_abc.py").write_text("import no_such_dependency_qq\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_qq"):
        reflect.namedAny("broken_mod_abc.thing")
    sys.modules.pop("broken_mod_abc", None)


def test_namedObjectAndModule() -> None:
    """namedObject takes the attribute from its module; namedModule imports a module."""
    assert reflect.namedObject("os.path.join") is os.path.join
    assert reflect.namedModule("os.path") is os.path


def test_qualAndFullyQualifiedName() -> None:
    """qual names a class; fullyQualifiedName names classes, functions and bound methods."""

    class Inner:
        def meth(self) -> None:
            pass

    assert reflect.qual(ValueError) == "builtins.ValueError"
    assert reflect.fullyQualifiedName(reflect.namedAny) == "torsion.python.reflect.namedAny"
    assert reflect.fullyQualifiedName(os.path) == os.path.__name__
    assert reflect.fullyQualifiedName(Inner().meth).endswith("Inner.meth")


class Base:
    """A class with prefixed methods and a list attribute to accumulate."""

    things = ["a"]

    def do_one(self) -> int:
        return 1


class Derived(Base):
    """A subclass adding to both."""

    things = ["b"]

    def do_two(self) -> int:
        return 2


def test_prefixedMethodNamesAndMethods() -> None:
    """Methods with the prefix are found through the hierarchy, prefix stripped in names."""
    assert sorted(reflect.prefixedMethodNames(Derived, "do_")) == ["one", "two"]
    assert sorted(m() for m in reflect.prefixedMethods(Derived(), "do_")) == [1, 2]


def test_accumulateClassList() -> None:
    """accumulateClassList gathers the attribute from bases first."""
    result: list[str] = []
    reflect.accumulateClassList(Derived, "things", result)
    assert result == ["a", "b"]


def test_addMethodNamesToDict() -> None:
    """addMethodNamesToDict records each prefixed method name."""
    names: dict[str, int] = {}
    reflect.addMethodNamesToDict(Derived, names, "do_")
    assert set(names) == {"one", "two"}


class BadRepr:
    """An object whose repr and str raise."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def test_safeReprAndStrNeverRaise() -> None:
    """safe_repr/safe_str describe the failure instead of raising."""
    assert "no repr" in reflect.safe_repr(BadRepr()) and "BadRepr" in reflect.safe_repr(BadRepr())
    assert "no repr" in reflect.safe_str(BadRepr())
    assert reflect.safe_str(b"caf\xc3\xa9") == "café"
    assert reflect.safe_repr([1]) == "[1]"
