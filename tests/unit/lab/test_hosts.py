"""The nspawn lab's plan and files, without containers: its inventory and known_hosts, and
what `lab up` refuses before it makes anything."""
import json

import pytest
import yaml

from undercloud.lab import hosts, lab


def _state(lab_dir, count=2, **settings) -> dict:
    state = {"kind": "nspawn", "lab_dir": str(lab_dir), "name": "oc", "bridge": "br-test",
             "first_address": "10.252.0.10", "first_bmc_port": 26230, "bridge_made": True,
             "bridge_address": "10.252.0.1/24", "nodes": [], **settings}
    for index in range(count):
        node = hosts._node(state, index)
        node["host_key"] = f"ssh-ed25519 AAAAhostkey{index}"
        state["nodes"].append(node)
    return state


def _write(lab_dir, state):
    (lab_dir / "lab.json").write_text(json.dumps(state))


def test_hosts_follow_the_first_address_and_bmc_port(tmp_path):
    state = _state(tmp_path, 3)
    assert [(node["name"], node["address"], node["bmc"]["port"]) for node in state["nodes"]] \
        == [("oc-0", "10.252.0.10", 26230), ("oc-1", "10.252.0.11", 26231),
            ("oc-2", "10.252.0.12", 26232)]
    assert state["nodes"][1]["rootfs"] == str(tmp_path / "hosts" / "oc-1" / "rootfs")
    assert state["nodes"][0]["bmc"]["password"] != state["nodes"][1]["bmc"]["password"]


def test_the_lab_machine_is_the_networks_first_address():
    assert str(hosts.bridge_address("192.168.24.10")) == "192.168.24.1/24"


def test_the_inventory_reaches_each_host_as_root_with_the_lab_key(tmp_path):
    state = _state(tmp_path)
    hosts._write_files(state)
    inventory = yaml.safe_load((tmp_path / hosts.INVENTORY).read_text())
    assert inventory["all"]["hosts"]["oc-1"] == {
        "ansible_host": "10.252.0.11", "ansible_user": "root",
        "ansible_ssh_private_key_file": str(tmp_path / "ssh" / "id_ed25519")}
    assert f"UserKnownHostsFile={tmp_path}/ssh/known_hosts" in \
        inventory["all"]["vars"]["ansible_ssh_common_args"]
    assert (tmp_path / "ssh" / "known_hosts").read_text() == (
        "10.252.0.10,oc-0 ssh-ed25519 AAAAhostkey0\n10.252.0.11,oc-1 ssh-ed25519 AAAAhostkey1\n")


def test_the_inventory_holds_no_bmc_password(tmp_path):
    state = _state(tmp_path)
    hosts._write_files(state)
    text = (tmp_path / hosts.INVENTORY).read_text()
    assert all(node["bmc"]["password"] not in text for node in state["nodes"])


def test_the_lab_ssh_key_is_made_once_and_private(tmp_path):
    public = hosts.ssh_key(str(tmp_path))
    assert public.startswith("ssh-ed25519 ")
    assert (tmp_path / "ssh" / "id_ed25519").stat().st_mode & 0o777 == 0o600
    assert hosts.ssh_key(str(tmp_path)) == public


@pytest.mark.parametrize("settings, count, wanted", [
    ({"name": "overcloud-x"}, 2, "longer than 12 characters"),
    ({"first_address": "10.252.0.250"}, 6, "no room for 6 hosts"),
    ({"first_address": "10.252.0.1"}, 1, "after the lab's own 10.252.0.1"),
    ({"first_address": "10.252.0"}, 1, "must be an IPv4 address"),
    ({"first_bmc_port": 65535}, 2, "no room for 2 BMCs"),
    ({}, 0, "at least 1"),
])
def test_a_plan_that_does_not_fit_is_refused(tmp_path, settings, count, wanted):
    with pytest.raises(lab.LabError, match=wanted):
        hosts._check_plan(_state(tmp_path, 0, **settings), count)


def test_a_vm_lab_folder_is_not_mixed_with_nspawn_hosts(tmp_path):
    _write(tmp_path, {"lab_dir": str(tmp_path), "name": "baremetal", "nodes": []})
    with pytest.raises(lab.LabError, match="--kind vm .*not --kind nspawn.*lab down"):
        hosts.up(str(tmp_path), 2)


def test_an_nspawn_lab_folder_is_not_mixed_with_vms(tmp_path):
    _write(tmp_path, _state(tmp_path))
    with pytest.raises(lab.LabError, match="--kind nspawn .*not --kind vm"):
        lab.up(str(tmp_path), 2, "baremetal", "br-test")


def test_fewer_hosts_than_the_lab_has_are_refused(tmp_path):
    _write(tmp_path, _state(tmp_path, 3))
    with pytest.raises(lab.LabError, match="has 3 hosts, not 2"):
        hosts.up(str(tmp_path), 2)


def test_an_existing_lab_keeps_its_own_settings(tmp_path):
    _write(tmp_path, _state(tmp_path))
    with pytest.raises(lab.LabError, match="has --first-address 10.252.0.10, not 10.252.0.50"):
        hosts.up(str(tmp_path), 2, first_address="10.252.0.50")
    existing = _state(tmp_path)
    assert hosts._settings(existing, {"name": None, "bridge": "br-test"}, "br-ctlplane") == {
        "name": "oc", "bridge": "br-test", "first_address": "10.252.0.10",
        "first_bmc_port": 26230}


def test_a_new_lab_takes_the_defaults(tmp_path):
    assert hosts._settings(None, {"name": None}, "br-ctlplane") == {
        "name": "overcloud", "bridge": "br-ctlplane", "first_address": "192.168.24.150",
        "first_bmc_port": 6230}
