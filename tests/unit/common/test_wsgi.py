"""The app factory's shared behaviour, seen by a client of a small test service."""
import types

import pytest
from flask import Blueprint, g, jsonify, request

from undercloud.common import config, errors, wsgi
from undercloud.common.auth import public
from undercloud.common.context import RequestContext
from undercloud.common.microversions import Microversions
from undercloud.common.validation import validate
from undercloud.services import Service

blueprint = Blueprint("things", __name__)
THING = {"type": "object", "required": ["thing"], "additionalProperties": False,
         "properties": {"thing": {"type": "object", "required": ["name"],
                                  "properties": {"name": {"type": "string", "maxLength": 8},
                                                 "size": {"type": "integer"}}}}}


@blueprint.get("/")
@public
def root():
    return jsonify(version=str(g.api_version))


@blueprint.get("/things")
def things():
    return jsonify(user=g.context.user_id, project=g.context.project_id)


@blueprint.post("/things")
@validate(THING)
def create_thing():
    return jsonify(g.body), 201


@blueprint.get("/boom")
@public
def boom():
    raise RuntimeError("secret internals")


@blueprint.put("/upload")
@public
@wsgi.streaming
def upload():
    return jsonify(size=len(request.stream.read()))


MODULE = types.SimpleNamespace(
    blueprint=blueprint,
    MICROVERSIONS=Microversions("compute", "2.1", "2.10",
                                legacy_header="X-OpenStack-Nova-API-Version"))
SERVICE = Service("compute", "compute", 8774, "nova", "/v2.1")


def validator(token):
    if token != "good":
        raise errors.Unauthorized("The token is not valid.")
    return RequestContext(user_id="u1", project_id="p1", roles=["member"])


@pytest.fixture
def client(tmp_path):
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path)})
    cfg["api"]["max_body_bytes"] = 2048
    return wsgi.create_app(cfg, SERVICE, validator, module=MODULE).test_client()


def test_every_response_has_a_request_id(client):
    for response in (client.get("/"), client.get("/missing"), client.get("/things")):
        assert response.headers["x-openstack-request-id"].startswith("req-")


def test_microversion_is_negotiated_and_echoed(client):
    response = client.get("/", headers={"OpenStack-API-Version": "compute 2.5"})
    assert response.json == {"version": "2.5"}
    assert response.headers["OpenStack-API-Version"] == "compute 2.5"
    assert client.get("/", headers={"X-OpenStack-Nova-API-Version": "2.11"}).status_code == 406


def test_token_required_and_challenged(client):
    response = client.get("/things")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Keystone uri="http://')
    assert client.get("/things", headers={"X-Auth-Token": "bad"}).status_code == 401
    assert client.get("/things", headers={"X-Auth-Token": "good"}).json == \
        {"user": "u1", "project": "p1"}


def test_validation_names_the_field(client):
    headers = {"X-Auth-Token": "good"}
    response = client.post("/things", json={"thing": {"name": 5}}, headers=headers)
    assert response.status_code == 400
    assert "thing/name" in response.json["badRequest"]["message"]
    response = client.post("/things", json={"thing": {}}, headers=headers)
    assert "thing/name" in response.json["badRequest"]["message"]
    response = client.post("/things", data="{not json", headers=headers)
    assert response.status_code == 400
    assert "Malformed request body" in response.json["badRequest"]["message"]
    assert client.post("/things", json={"thing": {"name": "ok"}}, headers=headers).status_code == 201


def test_large_bodies_are_413_except_streams(client):
    response = client.post("/things", data="x" * 4096, headers={"X-Auth-Token": "good"})
    assert response.status_code == 413
    assert "overLimit" in response.json
    assert client.put("/upload", data=b"x" * 100000).json == {"size": 100000}


def test_unexpected_errors_are_500_without_internals(client):
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert "computeFault" in response.json


def test_wrong_method_is_405(client):
    response = client.delete("/things", headers={"X-Auth-Token": "good"})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
