"""Identity: Keystone v3 (users, projects, roles, tokens, catalog)."""
