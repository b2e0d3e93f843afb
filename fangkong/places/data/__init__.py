"""Division data shipped with the code; see README.md."""
