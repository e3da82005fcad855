"""Persons, their identity documents, households and memberships."""
