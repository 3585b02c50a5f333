"""The model server: one long-lived process that owns every generation outside training (Playground chat, side by
side answers, an OpenAI-compatible HTTP API), so the web process never holds model weights.

``catalogue`` names what can be served, ``store`` loads each base once and attaches adapters by name, ``streaming``
generates a reply piece by piece, ``api`` is the HTTP surface, ``process`` starts the server and finds it again, and
``client`` is how the pages and scripts talk to it.

May import: jobs (its process helpers), runs, models, config, errors, paths.
"""
