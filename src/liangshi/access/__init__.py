"""Who may do what, where: users, roles, jurisdictions, API tokens."""
