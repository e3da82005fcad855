"""Administrative areas: province to grid, GB/T 2260 and 12-digit statistics codes."""
