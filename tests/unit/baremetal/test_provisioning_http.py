"""The provisioning HTTP server on loopback: scripts, the ramdisk, images and the package
repository as files, only the ramdisk's three agent endpoints proxied to the API, and a log
that hides image paths."""
import http.client
import http.server
import json
import threading
import time

import pytest

from tests.fixtures.ports import free_port
from undercloud.baremetal.drivers.http import HttpError, HttpServer

IMAGE_DIR = "Zx8pQ2mV7rT4nL1kW9cB5dF3"
NODE = "1be26c0b-03f2-4d2e-ae87-c02d7f33c781"
WHEEL = "stackbox-0.1.0-py3-none-any.whl"


class FakeApi(http.server.BaseHTTPRequestHandler):
    """The bare metal API as the proxy sees it: records what came, answers like Ironic."""
    received = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        FakeApi.received.append({"method": self.command, "path": self.path,
                                 "body": self.rfile.read(length),
                                 "version": self.headers["X-OpenStack-Ironic-API-Version"]})
        body = json.dumps({"command": None}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-OpenStack-Ironic-API-Maximum-Version", "1.94")
        self.send_header("X-Internal", "not for nodes")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    FakeApi.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(tmp_path, api):
    (tmp_path / "ipxe").mkdir()
    (tmp_path / "ipxe" / "52-54-00-00-00-01.ipxe").write_text("#!ipxe\nexit\n")
    (tmp_path / "images" / IMAGE_DIR).mkdir(parents=True)
    (tmp_path / "images" / IMAGE_DIR / f"{NODE}.raw").write_bytes(b"\0" * 3 + b"raw" * 100000)
    (tmp_path / "configdrives" / IMAGE_DIR).mkdir(parents=True)
    (tmp_path / "configdrives" / IMAGE_DIR / f"{NODE}.iso").write_bytes(b"CD001" * 1000)
    (tmp_path / "vmlinuz").write_bytes(b"kernel" * 1000)
    (tmp_path / "initrd.img").write_bytes(b"initrd")
    repo = tmp_path / "repo"
    (repo / "python").mkdir(parents=True)
    (repo / "python" / WHEEL).write_bytes(b"PK" + b"wheel" * 200000)
    (repo / "python" / "index.html").write_text(f'<a href="{WHEEL}">{WHEEL}</a>\n')
    (repo / "debian").mkdir()
    (repo / "debian" / "Packages").write_text("Package: iptables\n")
    (repo / ".lock").write_text("")
    (repo / "debian" / "passwd").symlink_to(tmp_path / "vmlinuz")   # leads out of the repo
    files = HttpServer("127.0.0.1", free_port(), str(tmp_path),
                       {"/ramdisk/vmlinuz": str(tmp_path / "vmlinuz"),
                        "/ramdisk/initrd.img": str(tmp_path / "initrd.img")}, api, 4096,
                       repo_root=str(repo))
    files.start()
    files.start()    # a second start is a no-op
    yield files
    files.stop()


def call(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(method, path, body, headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.headers, data


def recorded(server, count: int) -> list[dict]:
    """The records, once the handler threads have written `count` (after their answers)."""
    deadline = time.monotonic() + 10
    while len(server.records) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(server.records)


def test_scripts_the_ramdisk_and_images_are_served_whole(server, tmp_path):
    status, headers, body = call(server, "GET", "/ipxe/52-54-00-00-00-01.ipxe")
    assert (status, body) == (200, b"#!ipxe\nexit\n")
    assert headers["Content-Type"] == "text/plain"
    assert call(server, "GET", "/ramdisk/vmlinuz")[2] == b"kernel" * 1000
    assert call(server, "GET", "/ramdisk/initrd.img")[2] == b"initrd"
    image = call(server, "GET", f"/images/{IMAGE_DIR}/{NODE}.raw")
    assert image[2] == (tmp_path / "images" / IMAGE_DIR / f"{NODE}.raw").read_bytes()
    assert call(server, "GET", f"/configdrives/{IMAGE_DIR}/{NODE}.iso")[2] == b"CD001" * 1000
    status, headers, body = call(server, "HEAD", "/ramdisk/vmlinuz")
    assert (status, headers["Content-Length"], body) == (200, "6000", b"")


def test_anything_else_is_not_found(server):
    for path in ("/ipxe/../../etc/passwd", "/ipxe/missing.ipxe", "/ipxe/",
                 f"/images/short/{NODE}.raw", f"/images/{IMAGE_DIR}/../vmlinuz",
                 f"/configdrives/short/{NODE}.iso", f"/configdrives/{IMAGE_DIR}/{NODE}.raw",
                 f"/images/{IMAGE_DIR}/{NODE}.iso",
                 "/ramdisk/other", "/v1/nodes", "/v1/heartbeat/a/b", "/"):
        assert call(server, "GET", path)[0] == 404, path
    assert call(server, "POST", "/ipxe/52-54-00-00-00-01.ipxe", b"")[0] == 405


def test_the_package_repository_is_served_as_files(server, tmp_path):
    status, headers, body = call(server, "GET", f"/repo/python/{WHEEL}")
    assert (status, body) == (200, (tmp_path / "repo" / "python" / WHEEL).read_bytes())
    assert headers["Content-Length"] == str(len(body))
    status, headers, body = call(server, "HEAD", f"/repo/python/{WHEEL}")
    assert (status, headers["Content-Length"], body) == (200, "1000002", b"")
    assert call(server, "GET", "/repo/debian/Packages")[2] == b"Package: iptables\n"
    # apt's path in a flat repository ("deb URL ./").
    assert call(server, "GET", "/repo/debian/./Packages")[2] == b"Package: iptables\n"
    status, headers, body = call(server, "GET", "/repo/python/")
    assert (status, headers["Content-Type"]) == (200, "text/html")
    assert WHEEL in body.decode()
    status, headers, _ = call(server, "GET", "/repo/python")
    assert (status, headers["Location"]) == (301, "/repo/python/")


def test_nothing_outside_the_repository_or_hidden_in_it_is_served(server):
    for path in ("/repo/python/../../vmlinuz", "/repo/python/%2e%2e/%2e%2e/vmlinuz",
                 "/repo/..%2f..%2fvmlinuz", "/repo//etc/passwd", "/repo/%2fetc/passwd",
                 "/repo/debian/passwd", "/repo/.lock", "/repo/debian/", "/repo/",
                 "/repo/python/missing.whl", "/repo/debian/Packages/x", "/repo", "/repo/."):
        assert call(server, "GET", path)[0] == 404, path
    assert call(server, "POST", f"/repo/python/{WHEEL}", b"")[0] == 405


def test_without_a_repository_there_is_no_repo_path(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "Packages").write_text("")
    server = HttpServer("127.0.0.1", free_port(), str(tmp_path), {}, "http://127.0.0.1:1", 1)
    server.start()
    try:
        assert call(server, "GET", "/repo/Packages")[0] == 404
    finally:
        server.stop()


def test_the_log_hides_the_random_path_of_images_and_config_drives(server):
    call(server, "GET", f"/images/{IMAGE_DIR}/{NODE}.raw")
    call(server, "GET", f"/configdrives/{IMAGE_DIR}/{NODE}.iso")
    call(server, "GET", "/ipxe/missing.ipxe")
    # A request is recorded once its reply is sent, so several may land in any order.
    records = sorted(recorded(server, 3), key=lambda r: r["path"])
    assert [(r["method"], r["path"], r["status"]) for r in records] == [
        ("GET", f"/configdrives/***/{NODE}.iso", 200),
        ("GET", f"/images/***/{NODE}.raw", 200), ("GET", "/ipxe/missing.ipxe", 404)]
    assert records[1]["bytes"] == 300003 and records[1]["client"] == "127.0.0.1"
    assert IMAGE_DIR not in json.dumps(records)


def test_the_agent_endpoints_reach_the_api_as_sent(server):
    body = json.dumps({"agent_token": "t0ken", "command_result": None}).encode()
    status, headers, answer = call(server, "POST", f"/v1/heartbeat/{NODE}", body, {
        "Content-Type": "application/json", "X-OpenStack-Ironic-API-Version": "1.68",
        "X-Auth-Token": "never-forwarded"})
    assert (status, json.loads(answer)) == (202, {"command": None})
    assert headers["X-OpenStack-Ironic-API-Maximum-Version"] == "1.94"
    assert headers["X-Internal"] is None
    call(server, "GET", "/v1/lookup?addresses=52:54:00:00:00:01")
    call(server, "POST", "/v1/continue_inspection", b"{}",
         {"Content-Type": "application/json"})
    assert [(r["method"], r["path"], r["body"]) for r in FakeApi.received] == [
        ("POST", f"/v1/heartbeat/{NODE}", body),
        ("GET", "/v1/lookup?addresses=52:54:00:00:00:01", b""),
        ("POST", "/v1/continue_inspection", b"{}")]
    assert FakeApi.received[0]["version"] == "1.68"


def test_a_body_too_large_is_refused_before_the_api_sees_it(server):
    status, _, answer = call(server, "POST", "/v1/continue_inspection", b"x" * 5000,
                             {"Content-Type": "application/json"})
    assert status == 413
    assert "0 to 4096 bytes" in json.loads(json.loads(answer)["error_message"])["faultstring"]
    assert FakeApi.received == []


def test_an_unreachable_api_is_a_503_in_ironics_words(tmp_path):
    server = HttpServer("127.0.0.1", free_port(), str(tmp_path), {},
                        f"http://127.0.0.1:{free_port()}", 4096)
    server.start()
    try:
        status, _, answer = call(server, "GET", "/v1/lookup?addresses=52:54:00:00:00:01")
    finally:
        server.stop()
    fault = json.loads(json.loads(answer)["error_message"])
    assert status == 503 and fault["faultcode"] == "Server"
    assert "bare metal API is unreachable" in fault["faultstring"]


def test_a_port_in_use_is_a_clear_error(server, tmp_path):
    other = HttpServer("127.0.0.1", server.port, str(tmp_path), {}, "http://127.0.0.1:1", 1)
    with pytest.raises(HttpError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        other.start()
