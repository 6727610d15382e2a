"""Auto-assignment: choosing an available agent for a conversation."""
