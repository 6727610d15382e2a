"""The store's statements, one module per table family: callers call functions, never write SQL."""
