"""The workflow engine: consumes the event log, starts and advances durable runs."""
