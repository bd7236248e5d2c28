"""Rules for code written against the legacy openai v0 SDK (``openai<1.0``)."""
