"""Rentals (出租房屋): a rented dwelling, its landlord (治安责任人), tenants and the security agreement."""
