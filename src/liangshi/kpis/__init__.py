"""KPIs of the registry (the seed's targets): rates with numerator and denominator per area and period."""
