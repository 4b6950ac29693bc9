"""Nodes files: what the lab writes reads back, TripleO's instackenv is accepted, and a
wrong entry is named with its field."""
import json
import os
import stat

import pytest

from undercloud.client import nodes_file

NODE = {"name": "node-0", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": 6230,
        "pm_user": "admin", "pm_password": "secret", "mac": ["52:54:00:AA:BB:CC"],
        "cpu": 2, "memory": 2048, "disk": 10, "arch": "x86_64"}


@pytest.mark.parametrize("name", ["nodes.yaml", "instackenv.json"])
def test_written_files_read_back_and_stay_private(tmp_path, name):
    path = str(tmp_path / name)
    nodes_file.write(path, [NODE])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    [node] = nodes_file.read(path)
    assert node == {"name": "node-0", "address": "127.0.0.1", "port": 6230,
                    "username": "admin", "password": "secret",
                    "macs": ["52:54:00:aa:bb:cc"],
                    "properties": {"cpus": 2, "memory_mb": 2048, "local_gb": 10,
                                   "cpu_arch": "x86_64"}}


def test_tripleo_instackenv_with_a_bare_list_and_capabilities():
    text = json.dumps([{**NODE, "pm_type": "pxe_ipmitool", "memory": "4096",
                        "capabilities": "profile:compute,boot_option:local"}])
    [node] = nodes_file.parse(text)
    assert node["properties"]["memory_mb"] == 4096
    assert node["properties"]["capabilities"] == "profile:compute,boot_option:local"


@pytest.mark.parametrize("change, message", [
    ({"pm_type": "redfish"}, r"node 0 \(node-0\): pm_type 'redfish' is not supported"),
    ({"pm_addr": ""}, "pm_addr is required"),
    ({"pm_port": 70000}, "pm_port 70000 must be 1-65535"),
    ({"mac": ["not-a-mac"]}, "mac 'not-a-mac' is not a MAC address"),
    ({"cpu": "many"}, "cpu 'many' must be a whole number"),
    ({"capabilities": "profile"}, "capability 'profile' must be key:value"),
])
def test_a_wrong_field_is_named(change, message):
    with pytest.raises(nodes_file.NodesFileError, match=message):
        nodes_file.parse(json.dumps({"nodes": [{**NODE, **change}]}))


def test_duplicate_macs_and_empty_files_are_refused(tmp_path):
    with pytest.raises(nodes_file.NodesFileError, match="mac 52:54:00:aa:bb:cc is also"):
        nodes_file.parse(json.dumps({"nodes": [NODE, {**NODE, "name": "node-1"}]}))
    with pytest.raises(nodes_file.NodesFileError, match="non-empty list of nodes"):
        nodes_file.parse("nodes: []")
    with pytest.raises(nodes_file.NodesFileError, match="cannot read"):
        nodes_file.read(str(tmp_path / "missing.yaml"))


def test_an_unquoted_all_digit_mac_in_yaml_reads_as_the_mac():
    text = "nodes:\n- {pm_addr: 10.0.0.1, pm_user: u, pm_password: p, mac: [52:54:00:12:34:56]}"
    assert nodes_file.parse(text)[0]["macs"] == ["52:54:00:12:34:56"]
