"""What the node's /init writes into its root from the config drive (node-config.sh), run with
the same busybox the initramfs runs, into a folder that stands in for the root file system."""
import json
import os
import shutil
import stat
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
IMAGES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "images")
SCRIPTS = "usr/lib/stackbox"
# The initramfs's /usr/lib/stackbox: the node's script beside the tiny guest's JSON readers.
FILES = [os.path.join(IMAGES, "overcloud-node", "initramfs", SCRIPTS, "node-config.sh"),
         os.path.join(IMAGES, "tiny-guest", "rootfs", SCRIPTS, "jsonflat.awk"),
         os.path.join(IMAGES, "tiny-guest", "rootfs", SCRIPTS, "static-ipv4.awk")]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFakeKeyFakeKeyFakeKeyFake deployer"
META_DATA = {"uuid": "8d5c2f1e-0b7a-4c57-9a0e-5b1f2a3c4d5e", "name": "node-0",
             "hostname": "overcloud-controller-0.example", "public_keys": {"deployer": KEY}}
NETWORK_DATA = {
    "links": [{"id": "nic0", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"},
              {"id": "nic1", "type": "phy", "ethernet_mac_address": "52:54:00:AB:CD:EF"}],
    "networks": [
        {"id": "ctlplane", "type": "ipv4", "link": "nic0", "ip_address": "192.168.24.10",
         "netmask": "255.255.255.0",
         "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.168.24.1"}]},
        {"id": "storage", "type": "ipv4", "link": "nic1", "ip_address": "172.16.1.10",
         "netmask": "255.255.240.0"}],
    "services": [{"type": "dns", "address": "192.168.24.1"}, {"type": "ntp", "address": "x"},
                 {"type": "dns", "address": "9.9.9.9"}]}


@pytest.fixture
def node(tmp_path):
    """(root, state, run): run() applies what state/ holds to root/ and returns (code, lines)."""
    lib, root, state = tmp_path / "lib", tmp_path / "root", tmp_path / "state"
    for folder in (lib, root / "etc", state):
        folder.mkdir(parents=True)
    for path in FILES:
        shutil.copy(path, lib)
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 build-host\n")

    def run():
        result = subprocess.run(["busybox", "sh", str(lib / "node-config.sh"), str(root),
                                 str(state)], capture_output=True, text=True)
        assert result.stderr == ""
        return result.returncode, result.stdout.splitlines()
    return root, state, run


def config_drive(state, meta_data=None, network_data=None):
    for name, document in (("meta_data", meta_data), ("network_data", network_data)):
        path = state / f"{name}.json"
        if document is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(json.dumps(document, indent=2))


def networks(root):
    folder = root / "etc" / "systemd" / "network"
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


def test_the_config_drive_names_the_node_lets_the_deployer_in_and_sets_its_addresses(node):
    root, state, run = node
    config_drive(state, META_DATA, NETWORK_DATA)

    assert run() == (0, [
        f"stackbox-node: instance {META_DATA['uuid']}",
        "stackbox-node: hostname overcloud-controller-0.example",
        "stackbox-node: ssh keys 1",
        "stackbox-node: network 52:54:00:12:34:56 192.168.24.10/24 static",
        "stackbox-node: network 52:54:00:AB:CD:EF 172.16.1.10/20 static"])
    assert (root / "etc" / "hostname").read_text() == "overcloud-controller-0.example\n"
    assert (root / "etc" / "hosts").read_text() == (
        "127.0.0.1 localhost\n127.0.1.1 overcloud-controller-0.example overcloud-controller-0\n")
    keys = root / "root" / ".ssh" / "authorized_keys"
    assert keys.read_text() == f"{KEY}\n"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.parent.stat().st_mode) == 0o700
    assert networks(root) == {
        "10-stackbox-525400123456.network":
            "[Match]\nMACAddress=52:54:00:12:34:56\nType=ether\n\n"
            "[Network]\nAddress=192.168.24.10/24\nGateway=192.168.24.1\n"
            "DNS=192.168.24.1\nDNS=9.9.9.9\n",
        "10-stackbox-525400abcdef.network":
            "[Match]\nMACAddress=52:54:00:AB:CD:EF\nType=ether\n\n"
            "[Network]\nAddress=172.16.1.10/20\nDNS=192.168.24.1\nDNS=9.9.9.9\n"}


def test_without_a_config_drive_every_nic_asks_dhcp(node):
    root, _, run = node

    assert run() == (0, ["stackbox-node: instance none",
                         "stackbox-node: network dhcp on en* eth*"])
    assert networks(root) == {"10-stackbox.network":
                              "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n"}
    assert not (root / "etc" / "hostname").exists()
    assert not (root / "root").exists()


def test_without_static_networks_every_nic_asks_dhcp_and_the_name_serves_as_hostname(node):
    root, state, run = node
    meta_data = {key: value for key, value in META_DATA.items() if key != "hostname"}
    dhcp_only = {"links": NETWORK_DATA["links"][:1],
                 "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "nic0"}]}
    config_drive(state, meta_data, dhcp_only)

    code, lines = run()

    assert code == 0
    assert lines[1:] == ["stackbox-node: hostname node-0", "stackbox-node: ssh keys 1",
                         "stackbox-node: network dhcp on en* eth*"]
    assert (root / "etc" / "hosts").read_text() == "127.0.0.1 localhost\n127.0.1.1 node-0\n"
    assert list(networks(root)) == ["10-stackbox.network"]


def test_a_root_without_etc_hosts_gets_one(node):
    root, state, run = node
    (root / "etc" / "hosts").unlink()
    config_drive(state, META_DATA)

    run()

    assert (root / "etc" / "hosts").read_text() == (
        "127.0.0.1 localhost\n127.0.1.1 overcloud-controller-0.example overcloud-controller-0\n")


def test_it_applies_once_per_instance_so_later_changes_survive_a_reboot(node):
    root, state, run = node
    config_drive(state, META_DATA, NETWORK_DATA)
    run()
    keys = root / "root" / ".ssh" / "authorized_keys"
    keys.write_text(f"{KEY}\nssh-ed25519 AAAA added-later\n")

    assert run() == (0, [f"stackbox-node: instance {META_DATA['uuid']} already configured"])
    assert "added-later" in keys.read_text()

    config_drive(state, dict(META_DATA, uuid="another-instance"))
    assert run()[1][0] == "stackbox-node: instance another-instance"
    assert "added-later" not in keys.read_text()
    assert list(networks(root)) == ["10-stackbox.network"]  # the old instance's files are gone
