"""Architecture rules: the core package never imports streamlit, and every module says what it is for."""

import ast
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
CORE_MODULES = sorted((ROOT / "workbench").glob("*.py"))


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_source_never_imports_streamlit():
    offenders = [path.name for path in CORE_MODULES if "streamlit" in imported_names(path)]
    assert offenders == []


def test_importing_every_core_module_does_not_load_streamlit():
    modules = ", ".join(f"workbench.{path.stem}" for path in CORE_MODULES if path.stem != "__init__")
    code = f"import sys, {modules}; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def test_every_module_and_page_has_a_docstring():
    files = CORE_MODULES + sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]
    missing = [path.name for path in files if not ast.get_docstring(ast.parse(path.read_text()))]
    assert missing == []


def test_pages_stay_short():
    long_pages = [path.name for path in (ROOT / "pages").glob("*.py") if len(path.read_text().splitlines()) > 150]
    assert long_pages == []
