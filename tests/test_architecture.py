"""Architecture rules: the core never imports streamlit, layers import only downward, every module says what it is
for in one docstring style, modules stay small, and the tests mirror the packages."""

import ast
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "workbench"
CORE_MODULES = sorted(CORE.rglob("*.py"))
PAGES = sorted((ROOT / "app_pages").glob("*.py"))
# Top to bottom. A module may import from its own package and from any layer below its own, never from its layer's
# other packages or from above. Top-level modules count as packages of their own.
LAYERS = (
    ("cli",),
    ("planning", "results", "chat"),
    ("serving",),
    ("jobs",),
    ("training",),
    ("evaluation",),
    ("data",),
    ("runs",),
    ("models",),
    ("schedule",),
    ("config", "team", "limits"),
    ("database",),
    ("errors", "paths", "words", "charts", "settings"),
)
RANK = {package: rank for rank, names in enumerate(reversed(LAYERS)) for package in names}
MAX_MODULE_LINES = 300
FOREIGN_DOCSTRING_STYLES = (":func:", ":data:", ":class:", "Args:", "Returns:", "Raises:", "*optional*")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """'workbench.data.tokens' -> 'data'; 'workbench.words' -> 'words'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def workbench_imports(path: Path) -> set[str]:
    """Every workbench module this file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("workbench"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                    ROOT / Path(*candidate.split("."))
                ).is_dir()
                found.add(candidate if is_module else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("workbench")}
    return found


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_package_and_top_level_module_has_a_layer():
    packages = {path.name for path in CORE.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    modules = {path.stem for path in CORE.glob("*.py") if path.stem != "__init__"}
    assert packages | modules == set(RANK), "add the new package or module to LAYERS"


def test_layers_import_only_downward():
    upward = []
    for path in CORE_MODULES:
        here = package_of(module_name(path))
        for imported in workbench_imports(path):
            there = package_of(imported)
            if there and there != here and here and RANK[there] >= RANK[here]:
                upward.append(f"{module_name(path)} imports {imported}")
    assert upward == []


def test_the_module_import_graph_has_no_cycle():
    graph = {module_name(path): workbench_imports(path) for path in CORE_MODULES}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> list[str] | None:
        if state.get(module) == "open":
            return [*trail, module]
        if state.get(module) == "done" or module not in graph:
            return None
        state[module] = "open"
        for target in sorted(graph[module]):
            if target != module and not module.startswith(f"{target}."):  # a package's own __init__ is not a cycle
                cycle = visit(target, [*trail, module])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    cycles = [cycle for module in sorted(graph) if (cycle := visit(module, []))]
    assert cycles == []


def test_the_training_process_never_reads_the_job_table():
    training = [path for path in CORE_MODULES if module_name(path).startswith("workbench.training")]
    assert training and not any("workbench.jobs" in name for path in training for name in workbench_imports(path))


def test_core_source_never_imports_streamlit():
    offenders = [module_name(path) for path in CORE_MODULES if "streamlit" in imported_names(path)]
    assert offenders == []


def test_importing_every_core_module_does_not_load_streamlit():
    modules = ", ".join(sorted(module_name(path) for path in CORE_MODULES if path.stem != "__main__"))
    code = f"import sys, {modules}; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def test_every_module_package_and_page_says_what_it_is_for_in_one_style():
    files = [*CORE_MODULES, *PAGES, ROOT / "app.py", ROOT / "serve.py", ROOT / "web.py"]
    missing = [str(path.relative_to(ROOT)) for path in files if not ast.get_docstring(ast.parse(path.read_text()))]
    assert missing == []
    foreign = []
    for path in CORE_MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and (text := ast.get_docstring(node)):
                foreign += [f"{module_name(path)}: {style}" for style in FOREIGN_DOCSTRING_STYLES if style in text]
    assert foreign == [], "plain sentences with ``literals``, no Sphinx roles or Args sections"


def test_every_package_says_what_it_may_import():
    packages = [path for path in CORE.iterdir() if (path / "__init__.py").exists()]
    silent = [
        path.name
        for path in packages
        if "import" not in (ast.get_docstring(ast.parse((path / "__init__.py").read_text())) or "")
    ]
    assert packages and silent == []


def test_modules_stay_small_and_pages_short():
    long_modules = [
        module_name(path) for path in CORE_MODULES if len(path.read_text().splitlines()) > MAX_MODULE_LINES
    ]
    long_pages = [path.name for path in PAGES if len(path.read_text().splitlines()) > 150]
    assert long_modules == [] and long_pages == []


def test_tests_mirror_the_packages():
    folders = {path.name for path in (ROOT / "tests").iterdir() if path.is_dir() and any(path.glob("test_*.py"))}
    packages = {path.name for path in CORE.iterdir() if (path / "__init__.py").exists()}
    assert folders <= packages | {"app_pages", "benchmarks"}
    strays = []
    for folder in folders - {"app_pages"}:
        source = ROOT / "benchmarks" if folder == "benchmarks" else CORE / folder
        modules = {path.stem for path in source.glob("*.py")}
        for test in (ROOT / "tests" / folder).glob("test_*.py"):
            name = test.stem.removeprefix("test_")
            if not any(name == module or name.startswith(f"{module}_") for module in modules):
                strays.append(f"tests/{folder}/{test.name}")
    assert strays == [], "name each test file after the module it tests"


def test_test_files_have_unique_names():
    """pytest imports test files by their base name (the folders are not packages), so two of one name collide."""
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted({name for name in names if names.count(name) > 1}) == []
