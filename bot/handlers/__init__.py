"""Telegram transport: parse the input, call a service, format the reply. One Router per feature."""
