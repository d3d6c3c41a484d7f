"""Meeting Q&A bot: answers questions about the January 2023 U.S.-Japan "2+2" meeting."""

__version__ = "0.1.0"
