"""`fangkong enterprises ...` commands."""


def add_commands(sub) -> None:
    """Add `enterprises` to the `fangkong` parser."""
