"""Datasets: reading files of any supported container and layout into chat rows, validating them in plain words,
token lengths under a model's chat template, the dataset library of immutable versions, the server folder, and the
rows training reads (``workbench.data.sources``).

May import: models (tokenizers, chat templates, the demo's files), schedule, config, team, paths, errors, words.
"""
