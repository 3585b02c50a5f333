"""Models: finding and loading base models and tokenizers, the device they run on, what a chat template says about
training and stopping, greedy answer generation, and the built-in offline demo model and task.

May import: config, paths, errors.
"""
