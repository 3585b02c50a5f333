"""Run folders: the protocol between processes (file names, status, metrics, scores), and the files inside a run
that say what happened: the run record, the answers during training and the sealed checkpoints.

May import: config, team, paths, errors, words.
"""
