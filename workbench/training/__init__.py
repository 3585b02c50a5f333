"""The training process: one SFT job run from its run directory with TRL's SFTTrainer, its callbacks, how it
names failures, and the fault injection that tests use in place of a real CUDA device.

``python -m workbench.training RUN_DIR`` starts it. May import: data, evaluation, runs, models, schedule, config,
team, paths, errors, words. It never imports the job table: what it needs from the queue arrives in the run
directory.
"""
