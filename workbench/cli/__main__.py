"""``python -m workbench.cli``: the command line (the runner and merge processes are started this way too)."""

import sys

from workbench.cli import main


sys.exit(main())
