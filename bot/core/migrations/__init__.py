"""Numbered SQL migrations of the store, one directory per engine (`sqlite/`, `postgresql/`),
loaded with `importlib.resources`.

Files are named `NNNN_name.sql`. SQLite applies each pending one in its own transaction;
PostgreSQL applies all pending ones in one transaction under an advisory lock. Either way the
database records what it applied in `schema_migrations`. Never edit a migration that has
shipped: add a new one.
"""
