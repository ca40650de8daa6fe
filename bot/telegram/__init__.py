"""Telegram adapter (python-telegram-bot v22)."""
