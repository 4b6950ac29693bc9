"""The compute API on Flask's test client: temp SQLite, callers made up by token, and fakes for
what lies beyond the API (the bus casts and the image service).

A token reads "user:project:role,role". `casts` lists every rpcapi message the API sent as
(method, args, kwargs). `images` is the image service's catalogue: {image id: document}.
`network` is the network server as the API sees it (its networks, ports and VIFs).
Every test module in this folder can use these fixtures.
"""
import pytest

from tests.fixtures.api_caller import ApiCaller
from tests.fixtures.fake_tokens import ADMIN, ALICE, BOB, validator
from undercloud.bus import NoPeer
from undercloud import db
from undercloud.common import config as configuration
from undercloud.common import wsgi
from undercloud.compute import bootstrap, glance
from undercloud.compute.routes import common
from undercloud.network.rpcapi import NetworkRequestConflict, NetworkRequestNotFound
from undercloud.services import SERVICES

IMAGE = "11111111-2222-3333-4444-555555555555"
LATEST = "compute 2.79"


class Recorder:
    """Stands in for SchedulerAPI and ComputeAPI: remembers each message, answers calls."""

    def __init__(self, casts, answers):
        self.casts, self.answers = casts, answers

    def __getattr__(self, method):
        def send(*args, **kwargs):
            self.casts.append((method, args, kwargs))
            return self.answers.get(method)
        return send


class Network:
    """Stands in for the network server: `networks` {id: project}, `busy_ports`, `vifs`
    {instance id: [VIF]}; absent=True plays a cloud without the network service."""

    def __init__(self):
        self.networks, self.busy_ports, self.vifs, self.absent = {}, set(), {}, False

    def _answer(self):
        if self.absent:
            raise NoPeer("network-server")

    def validate_networks(self, context, project_id, requested_networks, security_groups=()):
        self._answer()
        if not requested_networks:
            own = [n for n, owner in self.networks.items() if owner == project_id]
            return [{"uuid": own[0]}] if own else []
        for request in requested_networks:
            if request.get("port") in self.busy_ports:
                raise NetworkRequestConflict(f"Port {request['port']} is still in use.")
            if "uuid" in request and request["uuid"] not in self.networks:
                raise NetworkRequestNotFound(f"Network {request['uuid']} could not be found.")
        return requested_networks

    def network_info(self, instance_id):
        self._answer()
        return self.vifs.get(instance_id, [])


@pytest.fixture
def network():
    return Network()


@pytest.fixture
def casts():
    return []


@pytest.fixture
def answers():
    return {"get_console_output": "login:"}


@pytest.fixture
def images():
    return {IMAGE: {"id": IMAGE, "name": "tiny", "status": "active", "min_ram": 0,
                    "min_disk": 0, "size": 1024, "disk_format": "qcow2",
                    "container_format": "bare", "visibility": "public", "hw_arch": "x86_64"}}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cfg(request, tmp_path, monkeypatch, casts, answers, images, network):
    """The compute API's config on SQLite in tmp_path, or on a fresh PostgreSQL database."""
    overrides = {"data_dir": str(tmp_path)}
    if request.param == "postgresql":
        overrides["database"] = {"url": request.getfixturevalue("postgres_migrated_url")}
    cfg = configuration.load(environ={}, overrides=overrides)
    db.connect(cfg)
    db.migrate(cfg, ["compute"])
    bootstrap.bootstrap(cfg)
    recorder = Recorder(casts, answers)
    monkeypatch.setattr(common, "scheduler", lambda: recorder)
    monkeypatch.setattr(common, "computes", lambda: recorder)
    for module in ("servers", "interfaces"):
        monkeypatch.setattr(f"undercloud.compute.routes.{module}.network", lambda: network)
    for module in ("servers", "server_actions", "interfaces"):
        monkeypatch.setattr(f"undercloud.compute.routes.{module}.scheduler", lambda: recorder,
                            raising=False)
        monkeypatch.setattr(f"undercloud.compute.routes.{module}.computes", lambda: recorder,
                            raising=False)

    def create_image(config, token, properties):
        image = {"id": f"snap-{len(images)}", "status": "queued", **properties}
        images[image["id"]] = image
        return image

    monkeypatch.setattr(glance, "get_image", lambda config, token, image_id: images.get(image_id))
    monkeypatch.setattr(glance, "create_image", create_image)
    monkeypatch.setattr(glance, "delete_image", lambda config, token, image_id: None)
    yield cfg
    db.database.close()


@pytest.fixture
def app(cfg):
    return wsgi.create_app(cfg, SERVICES["compute"], validate_token=validator)


class Caller(ApiCaller):
    """A test client sending one user's token, JSON and a microversion (latest by default)."""

    def __init__(self, client, token, version=LATEST):
        super().__init__(client, token)
        self.version = version

    def at(self, version: str) -> "Caller":
        return Caller(self.client, self.token, f"compute {version}")

    def default_headers(self) -> dict:
        headers = super().default_headers()
        if self.version:
            headers["OpenStack-API-Version"] = self.version
        return headers

    def boot(self, name="vm1", **server):
        body = {"server": {"name": name, "imageRef": IMAGE, "flavorRef": "1",
                           "networks": "none", **server}}
        response = self.post("/v2.1/servers", json=body)
        assert response.status_code == 202, response.get_json()
        return response.get_json()["server"]

    def show(self, server_id):
        response = self.get(f"/v2.1/servers/{server_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["server"]

    def action(self, server_id, body):
        return self.post(f"/v2.1/servers/{server_id}/action", json=body)


def place(server_id, host="host1", vm_state="active", task_state=None, **values):
    """What the managers would have done: the server is on `host` in `vm_state`."""
    from undercloud.compute.models import Instance
    Instance.update(host=host, node=host, vm_state=vm_state, task_state=task_state,
                    power_state=1, **values).where(Instance.id == server_id).execute()


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
