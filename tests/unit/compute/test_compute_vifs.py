"""A server's VIFs as the user and the guest see them: addresses and network_data.json."""
from undercloud.compute import vifs

VIF = {"port_id": "port-1", "network_id": "net-1", "network_name": "private",
       "mac_address": "fa:16:3e:00:00:05", "bridge": "brq1", "tap": "tapport-1", "mtu": 1450,
       "vif_type": "bridge", "fixed_ips": [
           {"ip_address": "10.0.0.5", "version": 4, "cidr": "10.0.0.0/24",
            "gateway_ip": "10.0.0.1", "dns_nameservers": ["10.9.9.9"],
            "host_routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}],
            "floating_ips": ["172.24.4.50"]},
           {"ip_address": "fd00::f816:3eff:fe00:5", "version": 6, "cidr": "fd00::/64",
            "gateway_ip": "fd00::1", "ipv6_address_mode": "slaac", "dns_nameservers": [],
            "host_routes": []}]}


def test_addresses_in_novas_format():
    assert vifs.addresses([VIF]) == {"private": [
        {"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:05"},
        {"addr": "172.24.4.50", "version": 4, "OS-EXT-IPS:type": "floating",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:05"},
        {"addr": "fd00::f816:3eff:fe00:5", "version": 6, "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:05"}]}


def test_network_data_has_static_ipv4_routes_and_ipv6_by_its_mode():
    document = vifs.network_data([VIF])
    ipv4, ipv6 = document["networks"]
    assert (ipv4["id"], ipv4["link"], ipv4["type"], ipv4["network_id"]) == \
        ("network0", "tapport-1", "ipv4", "net-1")
    assert ipv4["routes"] == [
        {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"},
        {"network": "192.168.0.0", "netmask": "255.255.0.0", "gateway": "10.0.0.254"}]
    assert (ipv6["type"], ipv6["netmask"]) == ("ipv6_slaac", "ffff:ffff:ffff:ffff::")
    assert ipv6["routes"] == [{"network": "::", "netmask": "::", "gateway": "fd00::1"}]
    assert document["services"] == [{"type": "dns", "address": "10.9.9.9"}]


def test_merged_keeps_the_order_and_what_the_agent_plugged():
    fresh = [dict(VIF, port_id="port-2", bridge="brq2"), dict(VIF, bridge="brq-server")]
    merged = vifs.merged([dict(VIF, tag="data")], fresh)
    assert [(v["port_id"], v["bridge"], v.get("tag")) for v in merged] == [
        ("port-1", "brq1", "data"), ("port-2", "brq2", None)]
