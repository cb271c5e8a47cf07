"""``from torsion.internet import reactor`` type-checks as the Reactor for users of mypy."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import torsion.internet
from torsion.internet._reactor import Reactor

REACTOR_MODULE = Path(torsion.internet.__file__).parent / "reactor.py"


def _declaredForTypeCheckers() -> set[str]:
    """The public names reactor.py assigns in its ``if TYPE_CHECKING:`` branch."""
    tree = ast.parse(REACTOR_MODULE.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.Assign):
                    names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return {name for name in names if not name.startswith("_")}


def test_typeCheckingNamesAreTheReactorsPublicAPI(engine: str) -> None:
    """reactor.py declares exactly the public attributes of a Reactor for type checkers."""
    r = Reactor(engine=engine)
    try:
        public = {name for name in {*dir(r), *vars(r)} if not name.startswith("_")}
    finally:
        r.closeAll(closeLoop=True)
    assert _declaredForTypeCheckers() == public


SNIPPET = '''\
from torsion.internet import reactor
from torsion.internet.interfaces import IReactorTCP, IReactorTime
from torsion.internet.protocol import Factory, Protocol


def wantsTCP(r: IReactorTCP) -> None:
    pass


def wantsTime(r: IReactorTime) -> None:
    pass


port = reactor.listenTCP(0, Factory.forProtocol(Protocol))
port.stopListening()
reactor.callLater(1.0, print, "x")
wantsTCP(reactor)
wantsTime(reactor)
reactor.listenTCP("eighty", Factory.forProtocol(Protocol))  # line 19: wrong type
reactor.listenTcp(0, Factory.forProtocol(Protocol))  # line 20: no such method
'''


def test_mypyChecksCallsOnTheGlobalReactor(tmp_path: Path) -> None:
    """mypy --strict accepts real uses of the global reactor and rejects wrong ones."""
    (tmp_path / "use_reactor.py").write_text(SNIPPET)
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "use_reactor.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["19", "20"], result.stdout + result.stderr
    assert "[arg-type]" in errors[0]
    assert "[attr-defined]" in errors[1]


def test_globalReactorIsReactorAtRunTime() -> None:
    """At run time the imported name is the installed Reactor itself, not a module."""
    code = textwrap.dedent(
        """
        from torsion.internet import reactor
        from torsion.internet._reactor import Reactor
        import sys
        print(isinstance(reactor, Reactor), sys.modules["torsion.internet.reactor"] is reactor)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out == "True True\n"
