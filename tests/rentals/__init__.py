"""Rentals: filing, tenants, agreements, ending, rates, permissions, import."""
