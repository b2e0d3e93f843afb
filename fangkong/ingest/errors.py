"""The one exception reading a file may raise (plain Python: the CLI imports the schemas
without Django or Arrow)."""


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; nothing was loaded."""
