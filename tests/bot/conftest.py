"""Fixtures of the bot package's tests."""

from zalo_fake import fake_zalo, make_bot, sleeps

__all__ = ["fake_zalo", "make_bot", "sleeps"]  # the fake Zalo Bot API server's fixtures
