"""The tiny guest's metadata parsers, run with the same busybox awk the guest runs."""
import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
SCRIPTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "images", "tiny-guest",
                       "rootfs", "usr", "lib", "stackbox")


def awk(script, text, *variables):
    command = ["busybox", "awk", *variables, "-f", os.path.join(SCRIPTS, script)]
    result = subprocess.run(command, input=text, capture_output=True, text=True)
    return result.returncode, result.stdout


def flatten(document):
    code, output = awk("jsonflat.awk", json.dumps(document))
    assert code == 0
    return [tuple(line.split("\t", 1)) for line in output.splitlines()]


def test_meta_data_flattens_to_paths_and_values():
    meta = {"uuid": "u-1", "hostname": "vm1", "launch_index": 0, "meta": {},
            "public_keys": {"laptop": "ssh-ed25519 AAAA me@laptop\n"},
            "keys": [{"name": "laptop", "type": "ssh", "data": "ssh-ed25519 AAAA me@laptop\n"}],
            "devices": [], "admin_pass": None, "flag": True}

    assert flatten(meta) == [
        ("uuid", "u-1"), ("hostname", "vm1"), ("launch_index", "0"),
        ("public_keys.laptop", "ssh-ed25519 AAAA me@laptop"),
        ("keys.0.name", "laptop"), ("keys.0.type", "ssh"),
        ("keys.0.data", "ssh-ed25519 AAAA me@laptop"),
        ("admin_pass", "null"), ("flag", "true")]


def test_escapes_and_nesting():
    document = {"a": "quote \" slash \\ tab\tnew\nline \u0041\u00e9", "n": [[1, 2], {"k": []}]}

    assert flatten(document) == [("a", "quote \" slash \\ tab\tnew line A?"),
                                 ("n.0.0", "1"), ("n.0.1", "2")]


def test_pretty_json_reads_the_same():
    document = {"x": {"y": ["a", "b"]}, "z": 1.5}
    _, pretty = awk("jsonflat.awk", json.dumps(document, indent=4))

    assert pretty.splitlines() == ["x.y.0\ta", "x.y.1\tb", "z\t1.5"]


NETWORK_DATA = {
    "links": [{"id": "tap1", "type": "bridge", "ethernet_mac_address": "FA:16:3E:00:00:01"},
              {"id": "tap2", "type": "bridge", "ethernet_mac_address": "fa:16:3e:00:00:02"}],
    "networks": [
        {"id": "n0", "link": "tap1", "type": "ipv4", "ip_address": "10.0.0.5",
         "netmask": "255.255.255.0",
         "routes": [{"network": "10.1.0.0", "netmask": "255.255.0.0", "gateway": "10.0.0.9"},
                    {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"}]},
        {"id": "n1", "link": "tap2", "type": "ipv4_dhcp"}],
    "services": []}


@pytest.mark.parametrize("mac, expected", [
    ("fa:16:3e:00:00:01", (0, "10.0.0.5 255.255.255.0 10.0.0.1\n")),
    ("fa:16:3e:00:00:02", (1, "")),     # DHCP for this one
    ("fa:16:3e:00:00:03", (1, "")),     # not described at all
])
def test_static_ipv4_for_a_mac(mac, expected):
    flat = "".join(f"{path}\t{value}\n" for path, value in flatten(NETWORK_DATA))

    assert awk("static-ipv4.awk", flat, "-v", f"mac={mac}") == expected


def test_the_guest_reads_computes_network_data_as_static_ipv4():
    from undercloud.compute import vifs
    document = vifs.network_data([{
        "port_id": "port-1", "network_id": "net-1", "mac_address": "fa:16:3e:00:00:05",
        "tap": "tapport-1", "mtu": 1450, "fixed_ips": [{
            "ip_address": "10.0.0.5", "version": 4, "cidr": "10.0.0.0/24",
            "gateway_ip": "10.0.0.1", "dns_nameservers": [], "host_routes": []}]}])
    flat = "".join(f"{path}\t{value}\n" for path, value in flatten(document))

    assert awk("static-ipv4.awk", flat, "-v", "mac=fa:16:3e:00:00:05") == \
        (0, "10.0.0.5 255.255.255.0 10.0.0.1\n")
