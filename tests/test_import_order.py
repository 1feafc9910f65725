"""Dependencies run one way: ``finops_portal`` < ``capabilities`` < ``assessment`` <
``benchmarks`` < the apps at the top, which are peers. A lower app never imports a
higher one, at module level or inside a function; the project's code (``bench/``
included) has no import circles. Only the URL and settings wiring of the project
may name every app. Tests and migrations are history and integration, not layers.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["finops_portal", "capabilities", "assessment", "benchmarks"]
# Above every layer; none of them may import another (they talk through events).
TOP_APPS = ["evidence", "improvement", "notifications", "sso"]
WIRING = {
    "finops_portal.urls",
    "finops_portal.api_urls",
    "finops_portal.settings",
    "finops_portal.settings_test",
    "finops_portal.celery",
}
SKIPPED_DIRS = {"migrations", "tests", "static", "templates", "__pycache__"}


def _rank(package: str) -> int | None:
    if package in LAYERS:
        return LAYERS.index(package)
    if package in TOP_APPS:
        return len(LAYERS)
    return None


def project_modules(packages) -> dict[str, Path]:
    modules = {}
    for package in packages:
        base = ROOT / package
        if not base.is_dir():
            continue
        for path in base.rglob("*.py"):
            if SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def imports_of(module: str, path: Path) -> set[str]:
    """Every module name ``module`` imports, wherever the import statement is."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def upward_imports(modules: dict[str, Path]) -> list[str]:
    found = []
    for module, path in modules.items():
        if module in WIRING:
            continue
        own = module.split(".")[0]
        own_rank = _rank(own)
        for name in imports_of(module, path):
            other = name.split(".")[0]
            other_rank = _rank(other)
            if own_rank is None or other_rank is None or other == own:
                continue
            if other_rank > own_rank or (
                own in TOP_APPS and other in TOP_APPS and other != own
            ):
                found.append(f"{module} imports {name}")
    return sorted(set(found))


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected groups of modules that import one another (Tarjan)."""
    edges = {
        module: {
            target
            for name in imports_of(module, path)
            for target in (name, name.rsplit(".", 1)[0])
            if target in modules and target != module
        }
        for module, path in modules.items()
    }
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in edges:
        if node not in index:
            visit(node)
    return cycles


def test_no_lower_app_imports_a_higher_one():
    assert upward_imports(project_modules(LAYERS + TOP_APPS)) == []


def test_the_project_code_has_no_import_circles():
    assert import_cycles(project_modules([*LAYERS, *TOP_APPS, "bench"])) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from benchmarks.services import rollup_recompute\n", True),
        ("def submit():\n    from benchmarks import services\n", True),
        ("import benchmarks.tasks\n", True),
        ("from capabilities.models import Question\n", False),
        ("from .models import Answer\n", False),
    ],
)
def test_the_check_sees_imports_at_module_and_function_level(tmp_path, source, found):
    path = tmp_path / "services.py"
    path.write_text(source)
    assert bool(upward_imports({"assessment.services": path})) is found


def test_the_check_finds_a_circle(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from bench import b\n")
    b.write_text("def f():\n    from bench.a import x\n")
    assert import_cycles({"bench.a": a, "bench.b": b}) == [["bench.a", "bench.b"]]


def test_top_apps_do_not_import_each_other(tmp_path):
    path = tmp_path / "handlers.py"
    path.write_text("from notifications.services import notify\n")
    assert upward_imports({"improvement.handlers": path}) == [
        "improvement.handlers imports notifications.services",
        "improvement.handlers imports notifications.services.notify",
    ]
