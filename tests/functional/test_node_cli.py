"""`stackbox node import/introspect` against a real serve's bare metal API, what it made read
back with openstacksdk. No BMC answers here: introspection runs in tests/lab/."""
import json
import secrets

import pytest

from tests.fixtures.baremetal_lab import baremetal_settings, free_network, stackbox, suffix
from tests.fixtures.undercloud import start

pytestmark = [pytest.mark.functional, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    settings = baremetal_settings(f"sbxcli{suffix()}", free_network())
    serve = start(tmp_path_factory.mktemp("undercloud"), ["identity", "baremetal"],
                  {"baremetal": settings})
    yield serve
    serve.stop()


@pytest.fixture
def node_command(undercloud):
    def run(*args):
        return stackbox("node", *args, "--config", str(undercloud.config_file))
    return run


def _port(sdk, mac: str):
    """The bare-metal port with that MAC (what `openstack baremetal port show --address` finds)."""
    [port] = sdk.baremetal.ports(address=mac, details=True)
    return port


def _entry(**changes) -> dict:
    name = f"cli-{suffix()}"
    mac = "52:54:00:" + ":".join(secrets.token_hex(1) for _ in range(3))
    return {"name": name, "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": 6230,
            "pm_user": "admin", "pm_password": f"pw-{secrets.token_hex(6)}", "mac": [mac],
            "cpu": 2, "memory": 2048, "disk": 8, "arch": "x86_64",
            "capabilities": "profile:compute", **changes}


def test_import_creates_nodes_and_ports_then_updates_them(tmp_path, node_command, sdk):
    entry = _entry()
    nodes_yaml = tmp_path / "nodes.yaml"
    nodes_yaml.write_text(f"nodes:\n- {json.dumps(entry)}\n")
    created = node_command("import", str(nodes_yaml))
    assert created.returncode == 0, created.stderr
    assert f"Created node {entry['name']}" in created.stdout
    assert entry["pm_password"] not in created.stdout + created.stderr
    node = sdk.baremetal.get_node(entry["name"])
    assert node.driver == "ipmi" and node.provision_state == "enroll"
    assert node.driver_info == {"ipmi_address": "127.0.0.1", "ipmi_port": 6230,
                                "ipmi_username": "admin", "ipmi_password": "******"}
    assert node.properties == {"cpus": 2, "memory_mb": 2048, "local_gb": 8,
                               "cpu_arch": "x86_64", "capabilities": "profile:compute"}
    port = _port(sdk, entry["mac"][0])
    assert port.node_id == node.id and port.is_pxe_enabled

    # TripleO's instackenv.json, with new values: the same node is updated, not duplicated.
    instackenv = tmp_path / "instackenv.json"
    instackenv.write_text(json.dumps({"nodes": [{**entry, "memory": 4096, "pm_port": 6231}]}))
    updated = node_command("import", str(instackenv))
    assert updated.returncode == 0, updated.stderr
    assert f"Updated node {entry['name']} ({node.id})" in updated.stdout
    node = sdk.baremetal.get_node(entry["name"])
    assert node.properties["memory_mb"] == 4096
    assert node.driver_info["ipmi_port"] == 6231


def test_a_node_found_by_its_mac_takes_the_files_name(tmp_path, node_command, sdk):
    entry = _entry()
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps([entry]))
    assert node_command("import", str(path)).returncode == 0
    renamed = {**entry, "name": f"renamed-{suffix()}"}
    path.write_text(json.dumps([renamed]))
    result = node_command("import", str(path))
    assert result.returncode == 0 and f"Updated node {renamed['name']}" in result.stdout
    assert sdk.baremetal.get_node(renamed["name"]).id == _port(sdk, entry["mac"][0]).node_id


def test_a_mac_of_another_node_is_refused(tmp_path, node_command):
    first, second = _entry(), _entry()
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps([first, second]))
    assert node_command("import", str(path)).returncode == 0
    path.write_text(json.dumps([{**second, "mac": second["mac"] + first["mac"]}]))
    result = node_command("import", str(path))
    assert result.returncode == 1
    assert f"MAC {first['mac'][0]}" in result.stderr and "already belongs" in result.stderr


def test_a_wrong_nodes_file_names_the_node_and_field(tmp_path, node_command):
    path = tmp_path / "nodes.yaml"
    path.write_text(json.dumps({"nodes": [_entry(pm_addr="")]}))
    result = node_command("import", str(path))
    assert result.returncode == 1
    assert "node 0 (cli-" in result.stderr and "pm_addr is required" in result.stderr


def test_introspect_names_what_it_cannot_do(node_command):
    unknown = node_command("introspect", "no-such-node")
    assert unknown.returncode == 1 and "no node no-such-node" in unknown.stderr
    both = node_command("introspect")
    assert both.returncode == 2 and "name nodes, or --all" in both.stderr
