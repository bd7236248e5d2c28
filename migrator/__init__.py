"""migrate: codemods from GPT-2/transformers and the legacy openai v0 SDK to current SDKs.

Importing this package is cheap: it loads neither libcst nor any machine-learning library.
"""

__version__ = "0.1.0"
