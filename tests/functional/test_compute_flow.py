"""Booting servers end to end with the real `openstack` CLI, on libvirt's test driver: the
same API → conductor → compute host flow as with qemu, without a real guest."""
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import time

import libvirt
import pytest

from undercloud.common.secrets import metadata_secret

SERVICES = ["identity", "image", "compute", "metadata"]
TINY_MB = 512


def _one_guest_reservation() -> int:
    """Reserve all of the test driver's RAM but room for one m1.tiny (512 MB) guest."""
    connection = libvirt.open("test:///default")
    try:
        return connection.getInfo()[1] - (TINY_MB + 256)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, clients_venv):
    from tests.fixtures.undercloud import start
    undercloud = start(tmp_path_factory.mktemp("compute"), SERVICES, {"compute": {
        "virt_uri": "test:///default", "host": "fake1", "ram_allocation_ratio": 1.0,
        "reserved_host_memory_mb": _one_guest_reservation(), "report_interval": 1,
        "power_sync_interval": 2, "reconcile_interval": 2}})
    image = undercloud.data_dir / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "64M"], check=True)

    def cli(*args, check=True):
        command = [str(clients_venv / "bin" / "openstack"), *args]
        if args[1:2] in (("list",), ("show",), ("create",)) and "-f" not in args:
            command += ["-f", "json"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                env=undercloud.client_env())
        if check:
            assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip()[:1] in ("{", "[") else result

    try:
        cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
            "--public", "--file", str(image), "tiny")
        _wait_for_host(undercloud, "fake1")
    except BaseException:
        undercloud.stop()  # a failed setup must not leave a serve running
        raise
    undercloud.cli = cli
    undercloud.openstack_bin = str(clients_venv / "bin" / "openstack")
    yield undercloud
    undercloud.stop()


def _db(undercloud):
    return sqlite3.connect(undercloud.data_dir / "stackbox.db", timeout=10)


def _wait_for_host(undercloud, host, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with _db(undercloud) as connection:
                if connection.execute("SELECT 1 FROM compute_compute_node WHERE host = ?",
                                      (host,)).fetchone():
                    return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"compute host {host} never reported:\n{undercloud.log('compute')}")


def _wait_status(cli, name, statuses, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = cli("server", "show", name)
        if server["status"] in statuses:
            return server
        time.sleep(0.3)
    raise AssertionError(f"server {name} stayed {server['status']}")


def _delete(cli, *names):
    cli("server", "delete", "--wait", *names)


def test_boot_to_active_then_delete_leaves_nothing(cloud):
    server = cloud.cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny",
                       "--nic", "none", "--wait", "vm1")
    assert server["status"] == "ACTIVE"
    assert server["OS-EXT-STS:power_state"] in (1, "Running")
    instances = cloud.data_dir / "compute" / "instances"
    assert os.listdir(instances) == [server["id"]]
    _delete(cloud.cli, "vm1")
    assert os.listdir(instances) == []
    assert os.listdir(cloud.data_dir / "compute" / "_base") in ([], [".locks"])
    with _db(cloud) as connection:
        assert connection.execute("SELECT memory_mb_used FROM compute_compute_node").fetchone() == (0,)


def test_metadata_api_serves_what_the_config_drive_holds(cloud):
    import urllib.request
    server = cloud.cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny",
                       "--nic", "none", "--property", "role=web", "--wait", "meta1")
    base = cloud.endpoint("metadata")

    def get(path, instance_id=server["id"]):
        # Signed as the network's metadata proxy signs what it forwards.
        signature = hmac.new(metadata_secret(cloud.config), instance_id.encode(),
                             hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"{base}{path}", headers={
            "X-Instance-ID": instance_id, "X-Tenant-ID": server["project_id"],
            "X-Instance-ID-Signature": signature})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()
    meta = json.loads(get("/openstack/latest/meta_data.json"))
    assert (meta["uuid"], meta["name"], meta["meta"]) == (server["id"], "meta1", {"role": "web"})
    assert "meta_data.json" in get("/openstack/latest")
    assert get("/latest/meta-data/hostname") == "meta1"
    assert "instance-id" in get("/latest/meta-data/").split()
    try:
        get("/openstack/latest/meta_data.json", instance_id="nope")
        raise AssertionError("an unknown instance got metadata")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    _delete(cloud.cli, "meta1")


def test_two_boots_on_a_one_guest_host_one_active_one_no_valid_host(cloud):
    creating = [subprocess.Popen(
        [cloud.openstack_bin, "server", "create", "--image", "tiny", "--flavor", "m1.tiny",
         "--nic", "none", name, "-f", "json"],
        env=cloud.client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name in ("race1", "race2")]
    for process in creating:
        assert process.wait(120) == 0, process.stderr.read()
    results = [_wait_status(cloud.cli, name, ("ACTIVE", "ERROR")) for name in ("race1", "race2")]
    assert sorted(r["status"] for r in results) == ["ACTIVE", "ERROR"]
    failed = next(r for r in results if r["status"] == "ERROR")
    assert "No valid host was found" in failed["fault"]["message"]
    _delete(cloud.cli, "race1", "race2")


def test_kill_9_of_the_manager_process_mid_boot_never_leaves_build(cloud):
    # A big image makes the build slow enough to be killed while it downloads.
    raw, big = cloud.data_dir / "big.raw", cloud.data_dir / "big.qcow2"
    with open(raw, "wb") as stream:
        stream.write(os.urandom(192 * 1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw),
                    str(big)], check=True)
    raw.unlink()
    cloud.cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
              "--file", str(big), "big")
    state = json.loads((cloud.data_dir / "run" / "serve.json").read_text())
    pid = state["children"]["managers"]["pid"]   # the compute host is one of its threads
    server = cloud.cli("server", "create", "--image", "big", "--flavor", "m1.tiny", "--nic",
                       "none", "crash1")
    deadline = time.monotonic() + 30
    task_state = None
    while time.monotonic() < deadline and task_state != "spawning":
        with _db(cloud) as connection:
            task_state, = connection.execute("SELECT task_state FROM compute_instance WHERE id = ?",
                                             (server["id"],)).fetchone()
    os.kill(pid, signal.SIGKILL)
    assert task_state == "spawning", "the build finished before it could be killed"
    server = _wait_status(cloud.cli, "crash1", ("ACTIVE", "ERROR"), timeout=90)
    assert server["status"] in ("ACTIVE", "ERROR")
    assert server["status"] == "ACTIVE" or server["fault"]["message"]
    _delete(cloud.cli, "crash1")
    assert [n for n in os.listdir(cloud.data_dir / "compute" / "_base")
            if not n.startswith(".locks")] == []


def test_server_actions_with_the_real_cli(cloud):
    cli = cloud.cli
    server = cli("server", "create", "--image", "tiny", "--flavor", "m1.nano", "--nic", "none",
                 "--wait", "act1")
    steps = [(("server", "stop", "act1"), "SHUTOFF"), (("server", "start", "act1"), "ACTIVE"),
             (("server", "pause", "act1"), "PAUSED"), (("server", "unpause", "act1"), "ACTIVE"),
             (("server", "suspend", "act1"), "SUSPENDED"),
             (("server", "resume", "act1"), "ACTIVE"),
             (("server", "reboot", "--hard", "act1"), "ACTIVE"),
             (("server", "rebuild", "--image", "tiny", "act1"), "ACTIVE"),
             (("server", "resize", "--flavor", "m1.micro", "act1"), "VERIFY_RESIZE"),
             (("server", "resize", "revert", "act1"), "ACTIVE"),
             (("server", "resize", "--flavor", "m1.micro", "act1"), "VERIFY_RESIZE"),
             (("server", "resize", "confirm", "act1"), "ACTIVE")]
    for command, status in steps:
        cli(*command)
        shown = _wait_status(cli, "act1", (status, "ERROR"))
        assert shown["status"] == status and shown["OS-EXT-STS:task_state"] is None, \
            (command, shown["status"], shown.get("fault"))
    assert cli("server", "show", "act1")["flavor"]["name"] == "m1.micro"
    with _db(cloud) as connection:
        assert connection.execute("SELECT memory_mb_used FROM compute_compute_node").fetchone() == (192,)
    cli("server", "image", "create", "--name", "act1-snap", "--wait", "act1")
    snapshot = cli("image", "show", "act1-snap")
    assert snapshot["status"] == "active" and snapshot["size"] > 0
    actions = cli("server", "event", "list", "act1", "-f", "json")
    assert {"create", "stop", "start", "reboot", "rebuild", "resize"} <= \
        {a["Action"] for a in actions}
    _delete(cli, "act1")
    cli("image", "delete", "act1-snap")
    with _db(cloud) as connection:
        assert connection.execute("SELECT memory_mb_used FROM compute_compute_node").fetchone() == (0,)
    assert server["id"] not in os.listdir(cloud.data_dir / "compute" / "instances")
