"""serve.py: the web server starts with the heavy libraries already imported, and no legacy pages/ folder."""

import json
import subprocess
import sys
from pathlib import Path

import serve


ROOT = Path(__file__).resolve().parent.parent

# Run serve.main() in a fresh interpreter with Streamlit's own start replaced, and report what was true at that moment.
PROBE = """
import json, sys
import serve

def report():
    print(json.dumps({
        "loaded": [name for name in serve.PRELOAD if name in sys.modules],
        "pandas_complete": hasattr(sys.modules.get("pandas"), "Series"),
        "argv": sys.argv,
    }))
    return 0

serve.cli.main = report
sys.exit(serve.main())
"""


def test_server_start_imports_the_page_libraries_first_and_owns_routing():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--server.port=9"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state["loaded"] == list(serve.PRELOAD)
    assert state["pandas_complete"] is True
    assert not (ROOT / "pages").exists(), "a pages/ folder would be Streamlit's legacy page list"
    assert state["argv"][1:] == ["run", str(ROOT / "web.py"), "--server.port=9"]
