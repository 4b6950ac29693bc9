"""What a provisioned node learns from its config drive (Ironic's configdrive object, Nova's
layout): its name, the deployer's SSH key, and its static ctlplane address on the NIC it
PXE-booted from, which the node image's first step writes into systemd-networkd's config."""
import ipaddress
import os
import subprocess

KEY_NAME = "stackbox-deployer"


class NodeConfigError(Exception):
    """The node's config drive cannot be made; the message names what is missing."""


def public_key(private_key: str) -> str:
    """The public half of the plan's SSH key: KEY.pub, else derived with ssh-keygen -y."""
    path = os.path.expanduser(private_key)
    try:
        with open(path + ".pub") as stream:
            return stream.read().strip()
    except OSError:
        pass
    try:
        result = subprocess.run(["ssh-keygen", "-y", "-f", path], capture_output=True,
                                text=True, timeout=30, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise NodeConfigError(f"cannot read the public key of {path}: {exc}") from None
    if result.returncode != 0:
        raise NodeConfigError(f"the plan's ssh private_key {path} has no {path}.pub and "
                              f"ssh-keygen cannot read it: {result.stderr.strip()}")
    return result.stdout.strip()


def boot_mac(ports: list[dict]) -> str:
    """The MAC of the node's PXE port: the NIC the ctlplane address belongs on."""
    pxe = [port for port in ports if port.get("pxe_enabled", True)]
    if not pxe:
        raise NodeConfigError("the node has no PXE-enabled port to put the ctlplane "
                              "address on (openstack baremetal port create MAC --node NODE)")
    return sorted(port["address"] for port in pxe)[0].lower()


def config_drive(node: dict, mac: str, address: str, provisioning_address: str,
                 key: str) -> dict:
    """The configdrive object for PUT /v1/nodes/{node}/states/provision (microversion 1.56)."""
    network = ipaddress.ip_interface(provisioning_address).network
    name = node.get("name") or node["uuid"]
    return {
        "meta_data": {"uuid": node["uuid"], "name": name, "hostname": name,
                      "public_keys": {KEY_NAME: key}},
        "network_data": {
            "links": [{"id": "ctlplane-nic", "type": "phy", "ethernet_mac_address": mac}],
            "networks": [{"id": "ctlplane", "type": "ipv4", "link": "ctlplane-nic",
                          "ip_address": address, "netmask": str(network.netmask),
                          "routes": []}],
            "services": []},
    }
