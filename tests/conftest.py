"""Shared fixtures: a real `stackbox serve` on loopback, the real clients, PostgreSQL, and the
tier markers with their time budget."""
pytest_plugins = ["tests.fixtures.undercloud", "tests.fixtures.postgres", "tests.fixtures.tiers"]
