"""Foundations several apps build on: the append-only fact base model, the read-only admin and
small helpers. Apps import this package; it imports no app (import-linter holds it to that)."""
