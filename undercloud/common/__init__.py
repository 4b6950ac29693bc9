"""Pieces every service shares: config, the WSGI app factory, auth, policy, errors."""
