"""Start the web app: ``python serve.py [streamlit options]`` is ``streamlit run app.py`` with page routing fixed.

Streamlit treats a folder called ``pages/`` next to the entry point as its legacy page list until some session has
run ``st.navigation``. On a freshly started server, a first visit straight to a deep link such as ``/runs`` would then
run ``pages/runs.py`` on its own and skip ``app.py`` (its page frame and the start of the job runner). Switching the
legacy mode off before the server starts lets ``app.py``'s ``st.navigation`` own every URL from the first request.
"""

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli


APP = Path(__file__).resolve().parent / "app.py"


def main() -> int:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
