"""Fixtures for the conductor's unit tests: a temp SQLite database, the fakes (fakes.py),
and a conductor that runs its flows at once on them."""
import pytest

from undercloud import db
from undercloud.baremetal.conductor import BaremetalConductor
from undercloud.common import config as configuration
from tests.unit.baremetal.conductor.fakes import (HOST, FakeBmc, FakeProvisioning,
                                                  InlineExecutor)


@pytest.fixture
def cfg(tmp_path):
    config = configuration.load(environ={}, overrides={
        "data_dir": str(tmp_path),
        "baremetal": {"deploy_callback_timeout": 60, "inspect_timeout": 60}})
    db.connect(config)
    db.migrate(config, ["baremetal"])
    yield config
    db.database.close()


@pytest.fixture
def bmc():
    return FakeBmc()


@pytest.fixture
def provisioning():
    return FakeProvisioning()


@pytest.fixture
def make_conductor(cfg, provisioning):
    """A conductor on the fake provisioning network; bmc_for None: the real IPMI client."""
    def make(bmc_for=None):
        return BaremetalConductor(cfg, host=HOST, provisioning=provisioning, bmc_for=bmc_for,
                                  executor=InlineExecutor())
    return make


@pytest.fixture
def conductor(make_conductor, bmc):
    return make_conductor(bmc_for=lambda node: bmc)
