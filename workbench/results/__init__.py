"""What a run gives people: diagnostics of its curves, run comparison, held-out answer tables, the adapter zip,
the merged model, the model card, and freeing disk.

May import: jobs (a run's job, the merge's process), evaluation, runs, models, data, config, team, paths, errors,
words.
"""
