"""``python -m workbench.training RUN_DIR [--resume-latest]``: the training process the runner starts for one job.

``--resume-latest`` (used by cluster backends, which may run a job again after preempting it) resumes from the run's
last sealed checkpoint when no resume was asked for and one exists."""

import sys
from pathlib import Path

from workbench.training.process import main, request_latest_resume


if __name__ == "__main__":
    run_dir = Path(sys.argv[1])
    if "--resume-latest" in sys.argv[2:]:
        request_latest_resume(run_dir)
    sys.exit(main(run_dir))
