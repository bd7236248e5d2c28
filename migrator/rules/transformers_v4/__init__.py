"""Rules for GPT-2 code written against transformers 4.x (and its predecessors)."""
