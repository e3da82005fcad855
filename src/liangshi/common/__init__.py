"""Shared, database-free building blocks: identity numbers, phones, code tables and text checks."""
