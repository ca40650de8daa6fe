"""The bot on Zalo (Zalo Bot API): client, update adapter, plain-text rendering, the bot."""
