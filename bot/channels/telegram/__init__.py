"""Telegram: long polling or webhook (bot/app.py) and the notifier the scheduler uses."""
