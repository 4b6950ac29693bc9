"""The network API on Flask's test client: temp SQLite, callers made up by token, and a record
of every notify.changed() call instead of casts onto the bus.

A token reads "user:project:role,role" (tests/fixtures/fake_tokens.py). Every test module in
this folder can use these fixtures.
"""
import pytest

from tests.fixtures.api_caller import ApiCaller
from tests.fixtures.fake_tokens import ADMIN, ALICE, BOB, READER, validator
from undercloud import db
from undercloud.common import config as configuration
from undercloud.common import wsgi
from undercloud.network import notify
from undercloud.services import SERVICES


@pytest.fixture
def changes(monkeypatch):
    """Every notify.changed() call: a list of the instance ids each one named."""
    calls = []
    monkeypatch.setattr(notify, "changed", lambda instance_ids=(): calls.append(
        sorted(i for i in instance_ids if i)))
    return calls


@pytest.fixture
def network_config():
    """Overrides of the network config section for one test (a test may change it first)."""
    return {"physical_mappings": {"physnet1": "br-test"}, "vlan_ranges": {"physnet1": [100, 101]},
            "vni_min": 1000, "vni_max": 1003}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cfg(request, tmp_path, changes, network_config):
    overrides = {"data_dir": str(tmp_path), "network": network_config}
    if request.param == "postgresql":
        overrides["database"] = {"url": request.getfixturevalue("postgres_migrated_url")}
    cfg = configuration.load(environ={}, overrides=overrides)
    db.connect(cfg)
    db.migrate(cfg, ["network"])
    yield cfg
    db.database.close()


@pytest.fixture
def app(cfg):
    return wsgi.create_app(cfg, SERVICES["network"], validate_token=validator)


class Caller(ApiCaller):
    """A test client sending one user's token; helpers create resources and return them."""

    def create(self, resource: str, **attributes) -> dict:
        response = self.post(f"/v2.0/{resource}s", json={resource: attributes})
        assert response.status_code == 201, response.get_json()
        return response.get_json()[resource]

    def network(self, **attributes) -> dict:
        return self.create("network", **{"name": "net", **attributes})

    def subnet(self, network: dict, cidr="10.0.0.0/24", **attributes) -> dict:
        return self.create("subnet", network_id=network["id"], cidr=cidr,
                           ip_version=6 if ":" in cidr else 4, **attributes)

    def port(self, network: dict, **attributes) -> dict:
        return self.create("port", network_id=network["id"], **attributes)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(client):
    return Caller(client, ADMIN)


@pytest.fixture
def alice(client):
    return Caller(client, ALICE)


@pytest.fixture
def bob(client):
    return Caller(client, BOB)


@pytest.fixture
def reader(client):
    return Caller(client, READER)
