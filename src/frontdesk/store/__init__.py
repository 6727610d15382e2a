"""Persistence: tables, the group-committing writer, read connections and migrations."""
