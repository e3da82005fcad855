"""Residences: a person living in a dwelling, with category, arrival and departure."""
