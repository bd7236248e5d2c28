"""Rules, one per module under ``migrator/rules/<family>/``; :mod:`migrator.rules.registry` lists them."""
