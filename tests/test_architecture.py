"""The shape rules of DESIGN.md and STYLE.md that a test can hold: imports point one way, and
importing the package or the CLI does no heavy work."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aiflow_lite"

# Lower layers never import higher ones: base values → SDK → ns → engine and meta service →
# ops → servers → cli. The web UI and REST API is a server of the home like the gRPC ones:
# `aiflow webserver` starts it, and it never reaches up into the CLI. What both print (the
# columns and builders of records) is the base module `records`.
LAYERS = [
    ("aiflow_lite.cli", 6),
    ("aiflow_lite.web", 5),
    ("aiflow_lite.server", 5),
    ("aiflow_lite.ops", 4),
    ("aiflow_lite.engine", 3),
    ("aiflow_lite.meta_service", 3),
    ("aiflow_lite.ns", 2),
]
BASE_MODULES = {"errors", "events", "config", "sqlite", "schema", "home", "status", "meta",
                "task_context", "options", "procfs", "records",
                "__init__", "__main__"}


ROOT = PACKAGE.parent
#: The spec's import paths (`ai_flow.*`, `notification_service.*`) re-export aiflow_lite: the
#: top layer, which nothing of aiflow_lite may import.
SHIMS = ("ai_flow", "notification_service")
PACKAGES = ("aiflow_lite", *SHIMS)


def _layer(module: str) -> int:
    if module.split(".")[0] in SHIMS:
        return 7
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return rank
    top = module.split(".")[1] if "." in module else "__init__"
    return 0 if top in BASE_MODULES else 1  # anything else at the top is SDK


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _import_graph() -> dict:
    """module -> the repository's modules it imports (at any level of the file: a lazy import
    inside a function is an arrow too). `from a.b import c` names the module `a.b.c` when
    that is a module, else `a.b`."""
    modules = {_module_name(path): path for path in _sources()}
    graph: dict = {}
    for module, path in modules.items():
        targets = set()
        for imported, _ in _imports(path):
            if imported.split(".")[0] not in PACKAGES:
                continue
            targets.add(imported if imported in modules else imported.rsplit(".", 1)[0]
                        if imported.rsplit(".", 1)[0] in modules else imported)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # `from pkg import module`
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in modules:
                        targets.add(f"{node.module}.{alias.name}")
        graph[module] = {t for t in targets if t in modules and t != module}
    return graph


def _cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_anywhere():
    """Packages import their own modules in their `__init__` and the modules import each
    other's names, so a package is a node apart from its `__init__` only through its modules."""
    graph = _import_graph()
    # A package's __init__ re-exporting its modules, and a module importing its package's
    # __init__ for a sibling, is one arrow each way by construction: the package node is left
    # out of the cycle search, its modules are not.
    packages = {m for m, p in ((_module_name(p), p) for p in _sources())
                if p.name == "__init__.py"}
    pruned = {m: {t for t in targets if t not in packages} for m, targets in graph.items()
              if m not in packages}
    assert _cycles(pruned) == []


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # function-level (lazy) imports count too
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def test_imports_point_one_way():
    upward = []
    for path in _sources():
        module = _module_name(path)
        if module == "aiflow_lite.__main__":
            continue  # the entry point is the CLI by definition
        for imported, line in _imports(path):
            if imported.split(".")[0] in PACKAGES and _layer(imported) > _layer(module):
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_only_sqlite_py_imports_apsw():
    users = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if any(name == "apsw" for name, _ in _imports(path))
    ]
    assert users == ["aiflow_lite/sqlite.py"]


HEAVY = ["apsw", "yaml", "rich", "grpc", "cloudpickle", "croniter", "starlette", "uvicorn",
         "jinja2"]


@pytest.mark.parametrize(
    "statement",
    ["import aiflow_lite", "import aiflow_lite.cli.notification", "import aiflow_lite.cli.aiflow"],
)
def test_nothing_heavy_happens_at_import_time(statement, tmp_path):
    code = (
        f"import sys, json; {statement}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = {"AIFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert json.loads(out) == []
    assert not (tmp_path / "home").exists()  # no config read or written, no database opened


# What a quick command loads beyond a bare interpreter (as an import set, not a timing: the
# figures are benchmarks/startup.py's). Each line names modules the command has no use for.
_EXIT_MODULES = ("import sys, atexit\n"
                 "atexit.register(lambda: sys.stderr.write("
                 "'MODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n")
_NOUN_MODULES = ["aiflow_lite.cli." + m for m in (
    "config", "db", "event", "server", "namespace", "workflow", "executions", "schedules",
    "run", "run_report", "status",
    # The meta service's nouns (aiflow_lite's own, not the spec's): loaded only when used.
    "datasets", "models", "metrics", "artifacts", "webserver")] + ["aiflow_lite.web"]
QUICK_COMMANDS = {
    ("notification", "version"): [*_NOUN_MODULES, *HEAVY, "json", "socket", "subprocess",
                                  "aiflow_lite.config", "aiflow_lite.ns"],
    ("aiflow", "version"): [*_NOUN_MODULES, *HEAVY, "json", "socket", "subprocess",
                            "aiflow_lite.config", "aiflow_lite.ops"],
    ("aiflow", "workflow", "list"): [
        *[m for m in _NOUN_MODULES if m != "aiflow_lite.cli.workflow"],
        "yaml", "rich", "grpc", "cloudpickle", "croniter", "subprocess", "starlette",
        "uvicorn", "jinja2", "aiflow_lite.engine.executions", "aiflow_lite.engine.scheduler",
        "aiflow_lite.loader", "aiflow_lite.workflow", "aiflow_lite.rpc", "aiflow_lite.ns.client",
        "aiflow_lite.meta_service", "aiflow_lite.blob"],
    ("aiflow", "model", "list"): [
        *[m for m in _NOUN_MODULES if m not in ("aiflow_lite.cli.models",
                                                 "aiflow_lite.cli.datasets")],
        "yaml", "rich", "grpc", "cloudpickle", "croniter", "subprocess",
        "aiflow_lite.engine.executions", "aiflow_lite.engine.scheduler", "aiflow_lite.loader",
        "aiflow_lite.workflow", "aiflow_lite.rpc", "aiflow_lite.ns.client", "aiflow_lite.blob",
        "aiflow_lite.meta_service.datasets", "aiflow_lite.meta_service.metrics",
        "aiflow_lite.meta_service.artifacts"],
}


def _loaded(code: str, home: Path) -> set:
    env = {"AIFLOW_HOME": str(home), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", _EXIT_MODULES + code], capture_output=True,
                          text=True, env=env, check=True, cwd=PACKAGE.parent)  # this checkout
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")][-1]
    return set(line.split()[1:])


@pytest.mark.parametrize("argv", list(QUICK_COMMANDS), ids=" ".join)
def test_quick_commands_load_only_what_they_use(argv, tmp_path):
    program, *args = argv
    bare = _loaded("", tmp_path / "home")
    loaded = _loaded(f"sys.argv = {[program, *args]!r}\n"
                     f"from aiflow_lite.cli.{program} import main\nmain()", tmp_path / "home")
    assert f"aiflow_lite.cli.{program}" in loaded  # it did run the command
    unneeded = sorted(m for m in loaded - bare if any(
        m == name or m.startswith(name + ".") for name in QUICK_COMMANDS[argv]))
    assert unneeded == [], f"`{' '.join(argv)}` imports {unneeded}"
    if args == ["version"]:
        assert not (tmp_path / "home").exists()  # no config read, no database opened
