"""Chat with a trained run: its base model with the adapter (or the whole trained model), streamed token by token
with the run's own chat template, and the untouched base for side-by-side answers.

May import: runs, models, config, errors.
"""
