"""The bare metal API on Flask's test client: temp SQLite (or PostgreSQL), callers made up by
token, and a conductor that records each message instead of the bus.

A token reads "user:project:role,role". `conductor.sent` lists (method, arguments) of every
message; `conductor.answers` maps a call's method to its answer, or to an exception to raise.
"""
import inspect

import pytest

from tests.fixtures.api_caller import ApiCaller
from tests.fixtures.fake_tokens import ADMIN, ALICE, BOB, READER, validator
from undercloud import db
from undercloud.baremetal import rpcapi
from undercloud.baremetal.models import Node
from undercloud.baremetal.routes import common
from undercloud.common import config as configuration
from undercloud.common import secrets, wsgi
from undercloud.services import SERVICES

LATEST = "1.94"
BMC = {"ipmi_address": "127.0.0.1", "ipmi_port": 6230, "ipmi_username": "admin",
       "ipmi_password": "s3cr3t-bmc"}


class Conductor:
    """Stands in for rpcapi.ConductorAPI; each message is checked against its signature."""

    def __init__(self):
        self.sent, self.answers = [], {}

    def __getattr__(self, method):
        signature = inspect.signature(getattr(rpcapi.ConductorAPI, method))

        def send(*args, **kwargs):
            arguments = signature.bind(self, *args, **kwargs).arguments
            arguments.pop("self")
            self.sent.append((method, arguments))
            answer = self.answers.get(method)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return send

    def methods(self) -> list[str]:
        return [method for method, _ in self.sent]


@pytest.fixture
def conductor(monkeypatch):
    fake = Conductor()
    monkeypatch.setattr(common, "conductor", lambda: fake)
    for module in ("node_states", "node_management", "agent"):
        monkeypatch.setattr(f"undercloud.baremetal.routes.{module}.conductor", lambda: fake)
    return fake


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cfg(request, tmp_path, conductor):
    overrides = {"data_dir": str(tmp_path)}
    if request.param == "postgresql":
        overrides["database"] = {"url": request.getfixturevalue("postgres_migrated_url")}
    cfg = configuration.load(environ={}, overrides=overrides)
    secrets.ensure_secrets(cfg)
    db.connect(cfg)
    db.migrate(cfg, ["baremetal"])
    yield cfg
    db.database.close()


@pytest.fixture
def app(cfg):
    return wsgi.create_app(cfg, SERVICES["baremetal"], validate_token=validator)


class Caller(ApiCaller):
    """A test client sending one user's token and a microversion (the latest by default)."""

    def __init__(self, client, token, version=LATEST):
        super().__init__(client, token)
        self.version = version

    def at(self, version: str | None) -> "Caller":
        return Caller(self.client, self.token, version)

    def default_headers(self) -> dict:
        headers = super().default_headers()
        if self.version:
            headers["X-OpenStack-Ironic-API-Version"] = self.version
        return headers

    def node(self, **fields) -> dict:
        response = self.post("/v1/nodes", json={"driver": "ipmi", "driver_info": dict(BMC),
                                                **fields})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def port(self, node: dict, address: str, **fields) -> dict:
        response = self.post("/v1/ports", json={"node_uuid": node["uuid"], "address": address,
                                                **fields})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def provision(self, node: dict, target: str, **body):
        return self.put(f"/v1/nodes/{node['uuid']}/states/provision",
                        json={"target": target, **body})


def set_node(node_id: str, **values):
    """What the conductor would have written on the node."""
    Node.update(**values).where(Node.id == node_id).execute()


def fault(response) -> str:
    """The faultstring of an Ironic error body."""
    import json
    return json.loads(response.get_json()["error_message"])["faultstring"]


@pytest.fixture
def as_user(app):
    def make(token, version=LATEST):
        return Caller(app.test_client(), token, version)
    return make


@pytest.fixture
def admin(as_user):
    return as_user(ADMIN)


@pytest.fixture
def alice(as_user):
    return as_user(ALICE)


@pytest.fixture
def bob(as_user):
    return as_user(BOB)


@pytest.fixture
def reader(as_user):
    return as_user(READER)


@pytest.fixture
def ramdisk(as_user):
    """The deploy ramdisk: no token, no microversion."""
    return as_user(None, None)
