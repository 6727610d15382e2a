"""The REST API (Litestar), versioned under /api/v1."""
