"""Which MAC boots what: prepare_boot and clean_up_boot keep boots.json, each MAC's iPXE
script and dnsmasq's hosts and options files in step (no dnsmasq runs here)."""
import json
import os

import pytest

from undercloud.baremetal.drivers.provisioning import Provisioning, ProvisioningError
from undercloud.common import config as configuration

NODE_A, NODE_B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
MAC_1, MAC_2, MAC_3 = "52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:03"


@pytest.fixture
def provisioning(tmp_path):
    ramdisk = tmp_path / "ramdisk"
    ramdisk.mkdir()
    (ramdisk / "vmlinuz").write_bytes(b"kernel")
    (ramdisk / "initrd.img").write_bytes(b"initrd")
    config = configuration.load(environ={}, overrides={
        "data_dir": str(tmp_path / "data"),
        "baremetal": {"deploy_kernel": str(ramdisk / "vmlinuz"),
                      "deploy_ramdisk": str(ramdisk / "initrd.img")}})
    return Provisioning(config)


def read(provisioning, *parts) -> str:
    with open(provisioning.config.path("baremetal", *parts)) as stream:
        return stream.read()


def scripts(provisioning) -> set[str]:
    return set(os.listdir(provisioning.config.path("baremetal", "http", "ipxe")))


def test_the_agent_url_is_the_provisioning_address_and_http_port(provisioning):
    assert provisioning.agent_url == "http://192.168.24.1:8088"


def test_prepared_macs_get_their_script_and_become_known_to_dnsmasq(provisioning):
    provisioning.prepare_boot(NODE_A, [MAC_1.upper(), MAC_2], "deploy")
    provisioning.prepare_boot(NODE_B, [MAC_3], "disk")
    assert json.loads(read(provisioning, "boots.json")) == {
        MAC_1: {"node": NODE_A, "mode": "deploy"}, MAC_2: {"node": NODE_A, "mode": "deploy"},
        MAC_3: {"node": NODE_B, "mode": "disk"}}
    script = read(provisioning, "http", "ipxe", "52-54-00-00-00-01.ipxe")
    assert f"ipa-mode=deploy ipa-node={NODE_A} BOOTIF={MAC_1}" in script
    assert "sanboot" in read(provisioning, "http", "ipxe", "52-54-00-00-00-03.ipxe")
    assert "ipa-mode=inspect" in read(provisioning, "http", "ipxe", "default.ipxe")
    hosts = read(provisioning, "dnsmasq", "host")
    assert hosts.splitlines() == [f"{MAC_1},set:mac-525400000001",
                                  f"{MAC_2},set:mac-525400000002",
                                  f"{MAC_3},set:mac-525400000003"]
    assert "http://192.168.24.1:8088/ipxe/52-54-00-00-00-03.ipxe" in \
        read(provisioning, "dnsmasq", "opts")


def test_preparing_again_changes_the_mode_and_drops_macs_the_node_no_longer_has(provisioning):
    provisioning.prepare_boot(NODE_A, [MAC_1, MAC_2], "deploy")
    provisioning.prepare_boot(NODE_A, [MAC_1], "disk")
    assert json.loads(read(provisioning, "boots.json")) == {
        MAC_1: {"node": NODE_A, "mode": "disk"}}
    assert scripts(provisioning) == {"default.ipxe", "52-54-00-00-00-01.ipxe"}


def test_clean_up_makes_the_nodes_macs_unknown_again(provisioning):
    provisioning.prepare_boot(NODE_A, [MAC_1, MAC_2], "clean")
    provisioning.prepare_boot(NODE_B, [MAC_3], "inspect")
    provisioning.clean_up_boot(NODE_A, [MAC_1])   # MAC_2 goes too: it is the node's
    assert json.loads(read(provisioning, "boots.json")) == {
        MAC_3: {"node": NODE_B, "mode": "inspect"}}
    assert scripts(provisioning) == {"default.ipxe", "52-54-00-00-00-03.ipxe"}
    assert read(provisioning, "dnsmasq", "host") == f"{MAC_3},set:mac-525400000003\n"
    provisioning.clean_up_boot(NODE_A, [])         # nothing left to clean is fine


def test_a_mac_prepared_for_another_node_moves_to_it(provisioning):
    provisioning.prepare_boot(NODE_A, [MAC_1], "deploy")
    provisioning.prepare_boot(NODE_B, [MAC_1], "inspect")
    assert json.loads(read(provisioning, "boots.json")) == {
        MAC_1: {"node": NODE_B, "mode": "inspect"}}


def test_wrong_modes_macs_and_a_missing_ramdisk_are_clear_errors(provisioning, tmp_path):
    with pytest.raises(ProvisioningError, match="boot mode 'rescue' is not one of"):
        provisioning.prepare_boot(NODE_A, [MAC_1], "rescue")
    with pytest.raises(ProvisioningError, match="52:54:00:00:01 is not a MAC address"):
        provisioning.prepare_boot(NODE_A, ["52:54:00:00:01"], "deploy")
    (tmp_path / "ramdisk" / "initrd.img").unlink()
    with pytest.raises(ProvisioningError, match="the deploy ramdisk is missing"):
        provisioning.prepare_boot(NODE_A, [MAC_1], "deploy")
    provisioning.prepare_boot(NODE_A, [MAC_1], "disk")   # the disk needs no ramdisk


def test_a_provisioning_address_outside_its_ranges_is_refused(tmp_path):
    config = configuration.load(environ={}, overrides={
        "data_dir": str(tmp_path), "baremetal": {"provisioning_address": "10.0.0.1/24"}})
    with pytest.raises(ProvisioningError, match="outside 10.0.0.0/24"):
        Provisioning(config)
