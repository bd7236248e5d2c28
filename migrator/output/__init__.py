"""Renderers of scan results: text (ruff-like) and json (a stable, documented schema)."""
