"""Numbered SQL migrations for `bot.core.store`, loaded with `importlib.resources`.

Files are named `NNNN_name.sql`; each is applied once, in order, inside its own transaction.
Never edit a migration that has shipped: add a new one.
"""
