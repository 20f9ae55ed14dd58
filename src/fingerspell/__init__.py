"""fingerspell: real-time ASL fingerspelling recognition."""

__version__ = "0.1.0"
