"""The image API on Flask's test client: a temp data dir, SQLite or PostgreSQL, and callers
made up by token.

A token reads "user:project:role,role" (e.g. "alice:p-alice:member,reader"), so each test
says in one string who is asking. `as_user(...)` gives a client whose requests carry it.
"""
import json
import time

import pytest

from tests.fixtures.api_caller import ApiCaller
from tests.fixtures.fake_tokens import ADMIN, ALICE, BOB, validator
from undercloud import db
from undercloud.common import config as configuration
from undercloud.common import wsgi
from undercloud.image import bootstrap
from undercloud.services import SERVICES



@pytest.fixture
def image_config(tmp_path):
    return {"image": {}}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cfg(request, tmp_path, image_config):
    """The service's config on SQLite in tmp_path, or on a fresh PostgreSQL database."""
    overrides = {"data_dir": str(tmp_path), **image_config}
    if request.param == "postgresql":
        overrides["database"] = {"url": request.getfixturevalue("postgres_migrated_url")}
    cfg = configuration.load(environ={}, overrides=overrides)
    db.connect(cfg)
    db.migrate(cfg, ["image"])
    bootstrap.bootstrap(cfg)
    yield cfg
    db.database.close()


@pytest.fixture
def app(cfg):
    return wsgi.create_app(cfg, SERVICES["image"], validate_token=validator)


class Caller(ApiCaller):
    """A test client that sends one user's token and JSON, in the user's words."""

    def patch(self, path, changes, media="application/openstack-images-v2.1-json-patch", **kw):
        headers = {"Content-Type": media, **kw.pop("headers", {})}
        return self._send("patch", path, data=json.dumps(changes), headers=headers, **kw)

    def create(self, **attributes):
        response = self.post("/v2/images", json=attributes)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def upload(self, image_id, data: bytes, **headers):
        return self.put(f"/v2/images/{image_id}/file", data=data,
                        headers={"Content-Type": "application/octet-stream", **headers})

    def show(self, image_id):
        return self.get(f"/v2/images/{image_id}")

    def ids(self, query=""):
        response = self.get(f"/v2/images{query}")
        assert response.status_code == 200, response.get_json()
        return [image["id"] for image in response.get_json()["images"]]


@pytest.fixture
def as_user(app):
    def make(token):
        return Caller(app.test_client(), token)
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
def wait_for():
    def wait(predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        return None
    return wait
