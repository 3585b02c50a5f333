"""Chat with a trained run in the Playground: the sides that answer (the run, and its base for side-by-side
answers) and their replies, streamed from the model server with the run's own chat template.

May import: serving, runs, errors.
"""
