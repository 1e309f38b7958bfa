"""The features: one folder each, each exporting one `Feature` (bot/core/feature.py).

Features never import each other; bot/app.py lists them once.
"""
