"""mdfollow: plain-text sales follow-ups."""

__version__ = "0.1.0"
