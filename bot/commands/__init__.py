"""CLI command groups, one module per feature; see bot/cli.py."""
