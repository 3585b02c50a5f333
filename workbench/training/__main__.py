"""``python -m workbench.training RUN_DIR``: the training process the runner starts for one job."""

import sys
from pathlib import Path

from workbench.training.process import main


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
