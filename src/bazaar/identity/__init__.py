"""Identity: users and roles, bearer tokens, partner API keys."""
