"""Channel adapters: one module per provider, registered by channel type."""
