"""The answering core. Nothing in this package imports discord.py."""
