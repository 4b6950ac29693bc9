"""Booting servers end to end with the real `openstack` CLI, on libvirt's test driver: the
same API → conductor → compute host flow as with qemu, without a real guest. What a test only
arranges, waits for or reads back goes through openstacksdk in-process."""
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import libvirt
import pytest

from tests.fixtures.undercloud import start, wait_for_server
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
def undercloud(tmp_path_factory):
    serve = start(tmp_path_factory.mktemp("compute"), SERVICES, {"compute": {
        "virt_uri": "test:///default", "host": "fake1", "ram_allocation_ratio": 1.0,
        "reserved_host_memory_mb": _one_guest_reservation(), "report_interval": 1,
        "power_sync_interval": 2, "reconcile_interval": 2}})
    yield serve
    serve.stop()


@pytest.fixture(scope="module", autouse=True)
def tiny_image(undercloud, sdk):
    """Every test boots `tiny`, on a compute host that has reported."""
    image = undercloud.data_dir / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "64M"], check=True)
    sdk.image.create_image("tiny", filename=str(image), disk_format="qcow2",
                           container_format="bare", visibility="public")
    _wait_for_host(undercloud, "fake1")


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


def _delete(sdk, *names):
    """Delete the servers and wait until they are gone (`server delete --wait`, in-process)."""
    servers = [sdk.compute.find_server(name, ignore_missing=False) for name in names]
    for server in servers:
        sdk.compute.delete_server(server)
    for server in servers:
        sdk.compute.wait_for_delete(server, interval=0.3, wait=120)


def test_boot_to_active_then_delete_leaves_nothing(undercloud, openstack):
    server = openstack("server", "create", "--image", "tiny", "--flavor", "m1.tiny",
                       "--nic", "none", "--wait", "vm1")
    assert server["status"] == "ACTIVE"
    assert server["OS-EXT-STS:power_state"] in (1, "Running")
    instances = undercloud.data_dir / "compute" / "instances"
    assert os.listdir(instances) == [server["id"]]
    openstack("server", "delete", "--wait", "vm1")
    assert os.listdir(instances) == []
    assert os.listdir(undercloud.data_dir / "compute" / "_base") in ([], [".locks"])
    with _db(undercloud) as connection:
        assert connection.execute("SELECT memory_mb_used FROM compute_compute_node").fetchone() == (0,)


def test_metadata_api_serves_what_the_config_drive_holds(undercloud, sdk):
    import urllib.request
    server = sdk.compute.create_server(
        name="meta1", image_id=sdk.image.find_image("tiny").id, networks="none",
        flavor_id=sdk.compute.find_flavor("m1.tiny").id, metadata={"role": "web"})
    server = wait_for_server(sdk, server, ("ACTIVE",))
    base = undercloud.endpoint("metadata")

    def get(path, instance_id=server.id):
        # Signed as the network's metadata proxy signs what it forwards.
        signature = hmac.new(metadata_secret(undercloud.config), instance_id.encode(),
                             hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"{base}{path}", headers={
            "X-Instance-ID": instance_id, "X-Tenant-ID": server.project_id,
            "X-Instance-ID-Signature": signature})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()
    meta = json.loads(get("/openstack/latest/meta_data.json"))
    assert (meta["uuid"], meta["name"], meta["meta"]) == (server.id, "meta1", {"role": "web"})
    assert "meta_data.json" in get("/openstack/latest")
    assert get("/latest/meta-data/hostname") == "meta1"
    assert "instance-id" in get("/latest/meta-data/").split()
    try:
        get("/openstack/latest/meta_data.json", instance_id="nope")
        raise AssertionError("an unknown instance got metadata")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    _delete(sdk, "meta1")


def test_two_boots_on_a_one_guest_host_one_active_one_no_valid_host(openstack, sdk):
    def create(name):
        return openstack("server", "create", "--image", "tiny", "--flavor", "m1.tiny",
                         "--nic", "none", name)
    # Both at once, as two users would.
    with ThreadPoolExecutor(2) as pool:
        created = list(pool.map(create, ("race1", "race2")))
    results = [wait_for_server(sdk, server["id"], ("ACTIVE", "ERROR")) for server in created]
    assert sorted(r.status for r in results) == ["ACTIVE", "ERROR"]
    failed = next(r for r in results if r.status == "ERROR")
    assert "No valid host was found" in failed.fault["message"]
    _delete(sdk, "race1", "race2")


def test_kill_9_of_the_manager_process_mid_boot_never_leaves_build(undercloud, openstack, sdk):
    # A big image makes the build slow enough to be killed while it downloads.
    raw, big = undercloud.data_dir / "big.raw", undercloud.data_dir / "big.qcow2"
    with open(raw, "wb") as stream:
        stream.write(os.urandom(192 * 1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw),
                    str(big)], check=True)
    raw.unlink()
    sdk.image.create_image("big", filename=str(big), disk_format="qcow2",
                           container_format="bare")
    state = json.loads((undercloud.data_dir / "run" / "serve.json").read_text())
    pid = state["children"]["managers"]["pid"]   # the compute host is one of its threads
    server = openstack("server", "create", "--image", "big", "--flavor", "m1.tiny", "--nic",
                       "none", "crash1")
    deadline = time.monotonic() + 30
    task_state = None
    while time.monotonic() < deadline and task_state != "spawning":
        with _db(undercloud) as connection:
            task_state, = connection.execute("SELECT task_state FROM compute_instance WHERE id = ?",
                                             (server["id"],)).fetchone()
    os.kill(pid, signal.SIGKILL)
    assert task_state == "spawning", "the build finished before it could be killed"
    server = wait_for_server(sdk, server["id"], ("ACTIVE", "ERROR"), timeout=90)
    assert server.status in ("ACTIVE", "ERROR")
    assert server.status == "ACTIVE" or server.fault["message"]
    _delete(sdk, "crash1")
    assert [n for n in os.listdir(undercloud.data_dir / "compute" / "_base")
            if not n.startswith(".locks")] == []


def test_server_actions_with_the_real_cli(undercloud, openstack, sdk):
    cli = openstack
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
        shown = wait_for_server(sdk, server["id"], (status, "ERROR"))
        assert shown.status == status and shown.task_state is None, \
            (command, shown.status, shown.fault)
    assert sdk.compute.get_server(server["id"]).flavor.name == "m1.micro"
    with _db(undercloud) as connection:
        assert connection.execute("SELECT memory_mb_used FROM compute_compute_node").fetchone() == (192,)
    cli("server", "image", "create", "--name", "act1-snap", "--wait", "act1")
    snapshot = sdk.image.find_image("act1-snap", ignore_missing=False)
    assert snapshot.status == "active" and snapshot.size > 0
    actions = sdk.compute.server_actions(server["id"])
    assert {"create", "stop", "start", "reboot", "rebuild", "resize"} <= \
        {a.action for a in actions}
    _delete(sdk, "act1")
    sdk.image.delete_image(snapshot)
    with _db(undercloud) as connection:
        assert connection.execute("SELECT memory_mb_used FROM compute_compute_node").fetchone() == (0,)
    assert server["id"] not in os.listdir(undercloud.data_dir / "compute" / "instances")
