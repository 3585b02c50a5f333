"""Evaluation: what counts as the right answer, and scoring a model on held-out conversations.

May import: models, runs (the ``Score`` type it produces), config, errors.
"""
