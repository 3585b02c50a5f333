"""Jobs: the queue of training runs (a SQLite table), what people do with it (submit, cancel, resume), the runner
process that starts each job as its own process group, and the notice sent when a run ends.

May import: training (how a failed process is named), data and models (checking a job's inputs), runs, schedule,
config, team, database, paths, errors, words.
"""
