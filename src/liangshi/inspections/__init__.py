"""Checking and acceptance (检查验收): inspection plans, samples, acceptance decisions, coverage estimates."""
