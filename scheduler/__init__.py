"""Scheduled posts: reminders, last calls, weekly digests and deadline countdowns."""
