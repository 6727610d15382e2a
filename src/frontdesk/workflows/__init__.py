"""Workflow definitions: parsed and validated against the registry of step types.

Above `steps/` (it needs their configurations) and below the store and the engine; the pure rules
it builds on (conditions, templates, durations, paths) stay in `domain/workflows/`.
"""
