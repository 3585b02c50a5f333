"""Planning a run before it starts: the model's shape from its config.json, memory, disk and time estimates, the
rules of a sound recipe for the user's data (``recipe``), the presets and their fit to a dataset, and the pre-flight
verdict with its one-click fixes.

May import: jobs (what running jobs hold), data, models, schedule, config, paths, errors, words.
"""
