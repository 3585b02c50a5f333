"""Start the web app: ``python serve.py [streamlit options]`` is ``streamlit run app.py`` with page routing fixed.

Streamlit treats a folder called ``pages/`` next to the entry point as its legacy page list until some session has
run ``st.navigation``. On a freshly started server, a first visit straight to a deep link such as ``/runs`` would then
run ``pages/runs.py`` on its own and skip ``app.py`` (its page frame and the start of the job runner). Switching the
legacy mode off before the server starts lets ``app.py``'s ``st.navigation`` own every URL from the first request.

It also imports the heavy libraries the pages use before any page runs. Streamlit runs each browser session's script
in its own thread, and two threads importing pandas (or transformers) for the first time at once can hand one of them
a half-initialised module: a CI run saw plotly fail with "partially initialized module 'pandas' has no attribute
'Series'". Imported once here, single-threaded, they are complete before the first request.
"""

import importlib
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli


APP = Path(__file__).resolve().parent / "app.py"
PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow",
    "plotly.graph_objects",
    "torch",
    "transformers",
    "workbench.charts",
    "workbench.chat",
    "workbench.models",
    "workbench.tokens",
)


def preload() -> None:
    """Import the libraries the pages use, and the lazily loaded model classes, in this one thread."""
    for name in PRELOAD:
        importlib.import_module(name)
    transformers = sys.modules["transformers"]
    for lazy in ("AutoTokenizer", "AutoModelForCausalLM", "AutoConfig"):
        getattr(transformers, lazy)


def main() -> int:
    PagesManager.uses_pages_directory = False
    preload()
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
