"""Shared fixtures: a real `stackbox serve` on loopback, the real clients, PostgreSQL."""
pytest_plugins = ["tests.fixtures.undercloud", "tests.fixtures.postgres"]
