"""Venue real-name registration: hotels and internet cafés, their API keys and their guests' stays."""
