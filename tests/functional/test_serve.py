"""`stackbox serve` as a user runs it: every API answers, children are supervised, stop is clean."""
import json
import os
import signal
import socket
import stat
import subprocess
import urllib.request

import pytest
import yaml

from tests.fixtures.processes import alive, descendants, wait_for
from tests.fixtures.undercloud import stackbox_argv, write_config
from undercloud import services as registry

pytestmark = pytest.mark.functional


def get(url):
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:  # 300 Multiple Choices arrives as an "error"
        return error.code, error.headers, json.loads(error.read())


def test_every_api_port_answers_a_version_document(undercloud):
    for service in registry.enabled(undercloud.config["services"]):
        if service.catalog_type is None:
            continue  # the guests' metadata API answers in its own format
        status, headers, body = get(undercloud.endpoint(service.name) + "/")
        assert status in (200, 300), service.name
        assert "versions" in body, service.name
        assert headers["x-openstack-request-id"].startswith("req-")
    status, _, body = get(undercloud.endpoint("identity") + "/v3")
    assert status == 200 and body["version"]["id"].startswith("v3")


def test_the_catalog_lists_exactly_the_services_that_answer(undercloud, sdk):
    answering = sorted(s.catalog_type for s in registry.enabled(undercloud.config["services"])
                       if s.catalog_type)
    assert sorted(s.type for s in sdk.identity.services()) == answering
    planned = [s for s in registry.SERVICES.values() if s.planned]
    assert planned and not set(s.catalog_type for s in planned) & set(answering)
    for service in planned:   # nothing listens where a planned service would
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", undercloud.config.port(service.name)), 1)


def test_clouds_yaml_and_secrets_are_private(undercloud):
    mode = stat.S_IMODE(os.stat(undercloud.clouds_yaml).st_mode)
    assert mode == 0o600
    cloud = yaml.safe_load(undercloud.clouds_yaml.read_text())["clouds"]["stackbox"]
    assert cloud["auth"]["username"] == "admin"
    assert cloud["auth"]["project_name"] == "admin"
    assert cloud["auth"]["user_domain_name"] == "Default"
    assert cloud["auth"]["auth_url"] == undercloud.endpoint("identity") + "/v3"
    secrets = undercloud.data_dir / "secrets"
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o700
    for root, _, files in os.walk(secrets):
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(".key"):  # CurveZMQ public keys may be world-readable
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_no_secret_reaches_a_log(undercloud):
    password = yaml.safe_load(undercloud.clouds_yaml.read_text())[
        "clouds"]["stackbox"]["auth"]["password"]
    for log in (undercloud.data_dir / "logs").iterdir():
        assert password not in log.read_text(errors="replace"), log.name
    assert password not in undercloud.output.read_text()


def test_each_service_logs_to_its_own_file(undercloud):
    get(undercloud.endpoint("image") + "/")
    assert wait_for(lambda: "GET / 300" in undercloud.log("image"), 5)
    assert "GET / 300" not in undercloud.log("compute")


def test_the_real_clients_discover_every_api(undercloud):
    from keystoneauth1 import discover, session   # the clients' discovery, in-process
    urls = [undercloud.endpoint(name) + "/" for name in
            ("identity", "image", "compute", "network", "baremetal")]
    found = [[str(v["version"]) for v in discover.Discover(session.Session(), url).version_data()]
             for url in urls]
    assert found[0] == ["(3, 14)"]
    assert all(versions for versions in found), found


def test_status_shows_each_service(undercloud):
    result = subprocess.run(stackbox_argv("status", "--config", str(undercloud.config_file)),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ["bus", *(s.name for s in registry.enabled(registry.SERVICES))]:
        assert any(line.startswith(name) and "healthy" in line
                   for line in result.stdout.splitlines()), name


def test_killed_children_are_restarted(start_undercloud):
    undercloud = start_undercloud(services=["identity", "compute"])
    for child in ("api", "bus"):
        before = undercloud.state()["children"][child]["pid"]
        os.kill(before, signal.SIGKILL)
        assert wait_for(lambda child=child, before=before:
                        undercloud.state()["children"][child]["pid"] not in (None, before))
        assert wait_for(lambda child=child: f"restarted {child} as pid" in undercloud.log("serve"))
    assert "killed by SIGKILL" in undercloud.log("serve")
    assert wait_for(lambda: get(undercloud.endpoint("compute") + "/")[0] == 200)
    assert undercloud.process.poll() is None


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_stop_leaves_no_process_behind(start_undercloud, stop_signal):
    undercloud = start_undercloud(services=["identity", "image"])
    family = descendants(undercloud.process.pid)
    assert len(family) >= 3  # bus, the API master and its workers
    undercloud.process.send_signal(stop_signal)
    assert undercloud.process.wait(10) == 0  # the bound: every child stopped within 10 s
    assert wait_for(lambda: not any(alive(pid) for pid in family), 5)
    assert not (undercloud.data_dir / "run" / "serve.json").exists()
    result = subprocess.run(stackbox_argv("status", "--config", str(undercloud.config_file)),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 3 and "not running" in result.stdout


def test_killing_serve_itself_takes_its_children_along(start_undercloud):
    undercloud = start_undercloud(services=["identity"])
    family = descendants(undercloud.process.pid)
    undercloud.process.kill()
    undercloud.process.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in family), 10)


def run_serve(config_file, timeout=30, env=None):
    return subprocess.run(stackbox_argv("serve", "--config", str(config_file)),
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_unknown_key_and_bad_value_exit_2(tmp_path):
    config_file = write_config(tmp_path, ["identity"], {"bus": {"prot": 1}})
    result = run_serve(config_file)
    assert result.returncode == 2 and "'bus.prot'" in result.stderr
    config_file = write_config(tmp_path, ["identity"], {"api": {"workers": "many"}})
    result = run_serve(config_file)
    assert result.returncode == 2 and "api.workers: 'many'" in result.stderr
    result = run_serve(write_config(tmp_path, ["identity"]), env={"STACKBOX_PORTS__IDENTITY": "0"})
    assert result.returncode == 2 and "ports.identity" in result.stderr


def test_a_busy_port_is_named(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config_file = write_config(tmp_path, ["identity", "image"])
        result = run_serve(config_file, env={"STACKBOX_PORTS__IMAGE": str(port)})
    assert result.returncode != 0
    assert f"port {port} (image) is already in use" in result.stderr


def test_one_serve_per_data_dir(start_undercloud):
    undercloud = start_undercloud(services=["identity"])
    result = run_serve(undercloud.config_file)
    assert result.returncode == 1 and "another stackbox serve" in result.stderr


@pytest.mark.postgres
def test_serve_on_postgresql(start_undercloud, postgres_url):
    undercloud = start_undercloud(services=["identity"],
                                  extra={"database": {"url": postgres_url}})
    assert get(undercloud.endpoint("identity") + "/v3")[0] == 200
    password = postgres_url.split("@")[0].rsplit(":", 1)[1]
    for log in (undercloud.data_dir / "logs").iterdir():
        assert password not in log.read_text(errors="replace"), log.name


