"""The Discord adapter: a thin layer over `bot.core`, which never imports this package."""
