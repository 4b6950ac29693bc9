"""The image API over real HTTP (gunicorn on loopback): streaming, ranges, broken clients, 4xx."""
import hashlib
import http.client
import json
import os
import socket
import time
import urllib.parse

import pytest
import yaml

from tests.fixtures.undercloud import start

pytestmark = [pytest.mark.functional, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    serve = start(tmp_path_factory.mktemp("undercloud"), ["identity", "image"])
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def token(undercloud):
    auth = yaml.safe_load(undercloud.clouds_yaml.read_text())["clouds"]["stackbox"]["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"], "domain": {"id": "default"}}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"id": "default"}}}}}
    host = urllib.parse.urlsplit(undercloud.endpoint("identity"))
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    connection.request("POST", "/v3/auth/tokens", json.dumps(body),
                       {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    assert response.status == 201
    return response.headers["X-Subject-Token"]


class Api:
    def __init__(self, endpoint, token):
        url = urllib.parse.urlsplit(endpoint)
        self.host, self.port, self.token = url.hostname, url.port, token

    def call(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body, {"X-Auth-Token": self.token, **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response.headers, data

    def create(self, **attributes):
        status, _, data = self.call("POST", "/v2/images", {"disk_format": "raw",
                                                           "container_format": "bare",
                                                           **attributes})
        assert status == 201, data
        return json.loads(data)

    def show(self, image_id):
        return json.loads(self.call("GET", f"/v2/images/{image_id}")[2])


@pytest.fixture(scope="module")
def api(undercloud, token):
    return Api(undercloud.endpoint("image"), token)


def store_dir(undercloud):
    return undercloud.data_dir / "images"


def test_chunked_upload_and_ranged_download(api, undercloud):
    image = api.create(name="chunked")
    data = os.urandom(5 * 1024 * 1024 + 3)
    connection = http.client.HTTPConnection(api.host, api.port, timeout=60)
    chunks = (data[i:i + 65536] for i in range(0, len(data), 65536))
    connection.request("PUT", f"/v2/images/{image['id']}/file", chunks,
                       {"X-Auth-Token": api.token, "Content-Type": "application/octet-stream"},
                       encode_chunked=True)
    response = connection.getresponse()
    response.read()
    assert response.status == 204
    shown = api.show(image["id"])
    assert shown["size"] == len(data) and shown["checksum"] == hashlib.md5(data).hexdigest()
    status, headers, body = api.call("GET", f"/v2/images/{image['id']}/file")
    assert status == 200 and body == data and headers["Content-MD5"] == shown["checksum"]
    status, headers, body = api.call("GET", f"/v2/images/{image['id']}/file",
                                     headers={"Range": "bytes=1000-1999"})
    assert status == 206 and body == data[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"


def test_a_client_that_disconnects_mid_upload_leaves_a_queued_image_and_no_file(api,
                                                                                undercloud):
    image = api.create(name="interrupted")
    with socket.create_connection((api.host, api.port)) as sock:
        sock.sendall((f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\n"
                      f"Host: {api.host}\r\nX-Auth-Token: {api.token}\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      f"Content-Length: {100 * 1024 * 1024}\r\n\r\n").encode())
        sock.sendall(os.urandom(2 * 1024 * 1024))
        deadline = time.monotonic() + 10
        while api.show(image["id"])["status"] != "saving" and time.monotonic() < deadline:
            time.sleep(0.05)
    deadline = time.monotonic() + 20
    while api.show(image["id"])["status"] != "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert api.show(image["id"])["status"] == "queued"
    assert [name for name in os.listdir(store_dir(undercloud))
            if image["id"] in name] == []
    status, _, _ = api.call("PUT", f"/v2/images/{image['id']}/file", b"complete",
                            {"Content-Type": "application/octet-stream"})
    assert status == 204


@pytest.mark.parametrize("method, path, body, headers, code", [
    ("POST", "/v2/images", "{broken", {"Content-Type": "application/json"}, 400),
    ("POST", "/v2/images", {"disk_format": "floppy"}, None, 400),
    ("POST", "/v2/images", {"container_format": "crate"}, None, 400),
    ("GET", "/v2/images?marker=00000000-0000-0000-0000-000000000000", None, None, 400),
    ("GET", "/v2/images?limit=many", None, None, 400),
    ("GET", "/v2/images?sort_key=colour", None, None, 400),
    ("GET", "/v2/images?created_at=gte:someday", None, None, 400),
    ("GET", "/v2/images/00000000-0000-0000-0000-000000000000", None, None, 404),
    ("GET", "/v2/images/not-even-a-uuid", None, None, 404),
    ("DELETE", "/v2/images/00000000-0000-0000-0000-000000000000", None, None, 404),
    ("GET", "/v2/images/00000000-0000-0000-0000-000000000000/file", None, None, 404),
    ("GET", "/v2/images/00000000-0000-0000-0000-000000000000/members", None, None, 404),
    ("POST", "/v2/images/00000000-0000-0000-0000-000000000000/actions/deactivate", None, None,
     404),
])
def test_bad_input_never_answers_500(api, method, path, body, headers, code):
    status, response_headers, data = api.call(method, path, body, headers)
    assert status == code, data
    error = json.loads(data)
    assert error["code"].startswith(str(code)) and error["message"]
    assert response_headers["x-openstack-request-id"].startswith("req-")


@pytest.mark.parametrize("changes", [
    "[not json", [{"op": "jump", "path": "/name", "value": "x"}],
    [{"op": "replace", "path": "name", "value": "x"}], [{"op": "replace", "path": "/name"}],
    {"op": "replace"}, [{"op": "replace", "path": "/disk_format", "value": "floppy"}]])
def test_bad_json_patches_answer_400(api, changes):
    image = api.create(name="patched")
    body = changes if isinstance(changes, str) else json.dumps(changes)
    status, _, data = api.call("PATCH", f"/v2/images/{image['id']}", body,
                               {"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert status == 400, data
