"""Ledger storage: the only place with SQL. SQLite through sqlite-utils, numbered migrations."""
