"""Property tests: banana, jelly and PB brokers survive arbitrary input.

No crash (only BananaError / InsecureJelly), no hang (Hypothesis deadline), and no
unregistered class is ever constructed.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torsion.internet.testing import StringTransport
from torsion.spread import banana, jelly, pb
from torsion.spread.error import BananaError, InsecureJelly

SETTINGS = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

ATOMS = [b"None", b"unicode", b"boolean", b"datetime", b"date", b"time", b"timedelta",
         b"decimal", b"list", b"tuple", b"set", b"frozenset", b"dictionary", b"reference",
         b"dereference", b"unpersistable", b"persistent", b"remote", b"local", b"cached",
         b"lcache", b"class", b"module", b"function", b"instance",
         b"twisted.spread.pb.CopyableFailure", b"tests.Canary", b"os.system"]


class Canary:
    """Counts constructions; it is never registered, so the count must stay 0."""

    built = 0

    def __new__(cls) -> Canary:
        Canary.built += 1
        return super().__new__(cls)


def sexps() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        st.binary(max_size=20),
        st.sampled_from(ATOMS),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.tuples(st.sampled_from(ATOMS), children).map(list),
            st.tuples(st.sampled_from(ATOMS), children, children).map(list),
        ),
        max_leaves=40,
    )


@SETTINGS
@given(st.binary(max_size=300))
def test_bananaDecodeArbitraryBytes(data: bytes) -> None:
    """Arbitrary bytes decode or raise BananaError, nothing else."""
    try:
        banana.decode(data)
    except BananaError:
        pass


@SETTINGS
@given(sexps())
def test_bananaRoundTrip(value: Any) -> None:
    """Every encodable s-expression decodes back to itself."""
    try:
        data = banana.encode(value)
    except BananaError:
        return
    assert banana.decode(data) == _listify(value)


def _listify(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value


@SETTINGS
@given(sexps())
def test_unjellyArbitraryExpressions(sexp: Any) -> None:
    """Arbitrary expressions unjelly or raise InsecureJelly, building no unregistered class."""
    try:
        jelly.unjelly(sexp)
    except InsecureJelly:
        pass
    assert Canary.built == 0


@SETTINGS
@given(sexps())
def test_brokerSurvivesArbitraryStatements(sexp: Any) -> None:
    """A broker fed arbitrary statements never raises out of dataReceived."""
    broker = pb.Broker(isClient=True)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode([b"pb"]))
    try:
        data = banana.Banana()._encoder.encode(sexp)
    except BananaError:
        return
    broker.dataReceived(data)
    assert Canary.built == 0


@SETTINGS
@given(st.binary(max_size=300))
def test_brokerSurvivesArbitraryBytes(data: bytes) -> None:
    """A broker fed arbitrary bytes never raises out of dataReceived."""
    broker = pb.Broker(isClient=False)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode(b"pb"))
    broker.dataReceived(data)


def values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.binary(max_size=8),
                        st.floats(allow_nan=False), st.text(max_size=5), st.booleans(),
                        st.none())
    return st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                      st.tuples(c, c),
                                                      st.dictionaries(st.text(max_size=3), c,
                                                                      max_size=3)),
                        max_leaves=12)


@SETTINGS
@given(values())
def test_brokerFastPathsMatchJelly(value: Any) -> None:
    """Broker.serialize/unserialize fast paths give exactly what jelly gives."""
    broker = pb.Broker()
    for obj in (value, (value,), (1, b"x", 2.5), {}):
        assert broker.serialize(obj) == jelly.jelly(obj, jelly.globalSecurity, None, broker)
        sexp = jelly.jelly(obj, jelly.globalSecurity, None, broker)
        assert broker.unserialize(sexp) == jelly.unjelly(sexp, jelly.globalSecurity, None, broker)
