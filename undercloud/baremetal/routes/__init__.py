"""Ironic v1's resources, one module each; api.py composes their blueprints."""
