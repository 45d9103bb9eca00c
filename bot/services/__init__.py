"""Domain services: no aiogram imports here."""
