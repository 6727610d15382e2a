"""State changes. Each function takes the writer's connection, checks its input, writes the new
state and the events describing it together, in the caller's transaction (the outbox)."""
