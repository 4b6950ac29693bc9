"""Run each database test on SQLite (a temp data dir) and on a real PostgreSQL server.

postgres_db_url comes from tests.fixtures.postgres, loaded by tests/conftest.py.
"""
import pytest

from undercloud.common import config


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cfg(request, tmp_path):
    """A Config whose database is SQLite in tmp_path, or a fresh PostgreSQL database."""
    overrides = {"data_dir": str(tmp_path)}
    if request.param == "postgresql":
        overrides["database"] = {"url": request.getfixturevalue("postgres_db_url")}
    return config.load(environ={}, overrides=overrides)


@pytest.fixture
def sqlite_cfg(tmp_path):
    return config.load(environ={}, overrides={"data_dir": str(tmp_path)})
