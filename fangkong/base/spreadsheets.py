"""Text bound for a CSV file that people open in a spreadsheet."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """The value as text a spreadsheet will not run as a formula (names are typed by people)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
