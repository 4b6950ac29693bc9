"""The compute API with the real `openstack` CLI: flavors, keypairs, and servers booted with
`--nic none` on a compute host that drives libvirt's test:///default (no real guest)."""
import subprocess
import sys

import pytest

from tests.fixtures import undercloud as undercloud_fixtures
from tests.fixtures.undercloud import openstack_cli, wait_for_server

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(900)]

COMPUTE = {"virt_uri": "test:///default", "host_memory_mb": 8192, "host_vcpus": 8,
           "host_disk_gb": 100}


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    serve = undercloud_fixtures.start(tmp_path_factory.mktemp("compute"),
                                      ["identity", "image", "compute", "metadata"],
                                      {"compute": COMPUTE})
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def cli(undercloud, clients_venv):
    return openstack_cli(clients_venv, undercloud, timeout=300)


@pytest.fixture(scope="module")
def tiny_image(sdk, tmp_path_factory):
    folder = tmp_path_factory.mktemp("guest")
    build = subprocess.run([sys.executable, str(undercloud_fixtures.REPO / "images" /
                                                "tiny-guest" / "build"),
                            "--output", str(folder), "--quiet"],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    return sdk.image.create_image("tiny", filename=str(folder / "tiny-guest.qcow2"),
                                  disk_format="qcow2", container_format="bare",
                                  visibility="public")


def test_default_flavors_and_admin_flavor_create(cli):
    names = {f["Name"] for f in cli("flavor", "list")}
    assert {"m1.nano", "m1.tiny", "m1.small"} <= names
    created = cli("flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1",
                  "--property", "hw:cpu_policy=shared", "--description", "small one", "f.test")
    assert created["ram"] == 256 and created["description"] == "small one"
    shown = cli("flavor", "show", "f.test")
    assert shown["properties"] == {"hw:cpu_policy": "shared"}
    cli("flavor", "delete", "f.test")
    assert "f.test" not in {f["Name"] for f in cli("flavor", "list")}


def test_keypair_generate_and_import(cli, tmp_path):
    generated = cli("keypair", "create", "k-gen", "-f", "value")
    assert "PRIVATE KEY" in generated
    public = tmp_path / "id.pub"
    public.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0d"
                      "h2l9GKJl me@host\n")
    imported = cli("keypair", "create", "--public-key", str(public), "k-imp")
    assert imported["type"] == "ssh" and imported["fingerprint"].count(":") == 15
    assert {k["Name"] for k in cli("keypair", "list")} >= {"k-gen", "k-imp"}
    cli("keypair", "delete", "k-imp")


def test_server_lifecycle_with_no_networks(cli, sdk, tiny_image, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hello\n")
    sdk.compute.create_keypair(name="k1")
    server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--nic", "none",
                 "--config-drive", "true", "--key-name", "k1", "--user-data", str(script),
                 "--property", "role=web", "--wait", "vm1")
    assert server["status"] == "ACTIVE" and server["key_name"] == "k1"
    listed = cli("server", "list", "--name", "^vm1$")
    assert [s["Name"] for s in listed] == ["vm1"]
    cli("server", "stop", "vm1")
    wait_for_server(sdk, server["id"], ("SHUTOFF",))
    cli("server", "start", "vm1")
    wait_for_server(sdk, server["id"], ("ACTIVE",))
    cli("server", "reboot", "--hard", "--wait", "vm1")
    cli("server", "set", "--name", "vm1-renamed", "--description", "renamed", "vm1")
    shown = cli("server", "show", "vm1-renamed")
    assert shown["description"] == "renamed" and shown["properties"] == {"role": "web"}
    actions = [e["Action"] for e in cli("server", "event", "list", "vm1-renamed")]
    assert {"create", "stop", "start", "reboot"} <= set(actions)
    cli("server", "delete", "--wait", "vm1-renamed")
    assert list(sdk.compute.servers()) == []


def test_networks_and_volumes_are_refused_clearly(cli, tiny_image):
    auto = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--nic", "auto",
               "vm-auto", check=False)
    assert auto.returncode != 0 and "Networking is not available" in auto.stderr
    missing = cli("server", "create", "--image", "tiny", "--flavor", "nope", "--nic", "none",
                  "vm-x", check=False)
    assert missing.returncode != 0


def test_quotas_limits_zones_and_hypervisors(cli):
    quota = cli("quota", "show", "--compute")
    instances = {row["Resource"]: row["Limit"] for row in quota}["instances"] \
        if isinstance(quota, list) else quota["instances"]
    assert instances == 10
    zones = cli("availability", "zone", "list", "--compute")
    assert "nova" in {zone["Zone Name"] for zone in zones}
    hypervisors = cli("hypervisor", "list")
    assert hypervisors and hypervisors[0]["State"] == "up"
    services = cli("compute", "service", "list")
    assert "nova-compute" in {s["Binary"] for s in services}
