"""A small demo city built through the same services as the API (the full synthetic city comes later)."""
