"""Doing things with enterprises: registry entries, resumption filings, daily reports. One
transaction each, each writing its audit record."""
