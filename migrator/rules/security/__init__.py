"""Rules about secrets in code."""
