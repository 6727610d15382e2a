"""Workflows as data: the definition model, its validation, conditions, templates, durations."""
