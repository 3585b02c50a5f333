"""Start the web app: ``python serve.py [streamlit options]`` is ``streamlit run web.py`` (``app.py``'s pages plus the
sign-in forms) with the heavy libraries imported first.

The pages live in ``app_pages/``, not ``pages/``, as Streamlit advises for apps that route with ``st.navigation``:
a folder called ``pages/`` would be Streamlit's legacy page list, and a first visit straight to a deep link such as
``/runs`` would run that page on its own, skipping ``app.py``. So every URL works on a freshly started server,
through ``streamlit run app.py`` as well as through this script.

This script also imports the heavy libraries the pages use before any page runs. Streamlit runs each browser
session's script in its own thread, and two threads importing pandas (or transformers) for the first time at once can
hand one of them a half-initialised module: a CI run saw plotly fail with "partially initialized module 'pandas'
has no attribute 'Series'". Imported once here, single-threaded, they are complete before the first request.
"""

import importlib
import sys
from pathlib import Path

from streamlit.web import cli


APP = Path(__file__).resolve().parent / "web.py"
PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow",
    "plotly.graph_objects",
    "torch",
    "transformers",
    "workbench.charts",
    "workbench.chat.playground",
    "workbench.models.loading",
    "workbench.data.tokens",
)


def preload() -> None:
    """Import the libraries the pages use, and the lazily loaded model classes, in this one thread."""
    for name in PRELOAD:
        importlib.import_module(name)
    transformers = sys.modules["transformers"]
    for lazy in ("AutoTokenizer", "AutoModelForCausalLM", "AutoConfig"):
        getattr(transformers, lazy)


def main() -> int:
    preload()
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
