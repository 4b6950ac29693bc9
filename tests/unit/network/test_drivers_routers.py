"""A router's NAT rules, addresses and routes from its host_state entry."""
from undercloud.network.drivers import routers

GATEWAY_PORT = "99999999-aaaa-bbbb-cccc-dddddddddddd"
QG = "qg-99999999-aa"


def router(gateway=True, enable_snat=True, floating_ips=(), routes=()):
    return {
        "id": "r1", "admin_state_up": True, "enable_snat": enable_snat, "routes": list(routes),
        "interfaces": [{"port_id": "11111111-0000", "mac_address": "fa:16:3e:00:00:01",
                        "tap": "tap11111111-00", "bridge": "brqA", "network_id": "A",
                        "mtu": 1450, "fixed_ips": [{"ip_address": "10.0.0.1", "prefixlen": 24,
                                                    "subnet_id": "s", "cidr": "10.0.0.0/24"}]}],
        "gateway": {"port_id": GATEWAY_PORT, "mac_address": "fa:16:3e:00:00:02",
                    "tap": "tap99999999-aa", "bridge": "br-ex", "network_id": "ext",
                    "mtu": 1500, "fixed_ips": [
                        {"ip_address": "172.24.4.5", "prefixlen": 24, "subnet_id": "e",
                         "cidr": "172.24.4.0/24", "gateway_ip": "172.24.4.1"}]}
        if gateway else None,
        "floating_ips": list(floating_ips)}


FLOATING = {"id": "f1", "floating_ip_address": "172.24.4.10", "fixed_ip_address": "10.0.0.11",
            "port_id": "p1"}
UNASSOCIATED = {"id": "f2", "floating_ip_address": "172.24.4.11", "fixed_ip_address": None,
                "port_id": None}


def nat_rules(text):
    return text.split("*nat\n")[1].split("COMMIT")[0].splitlines()[4:]


def test_snat_floating_ips_and_the_metadata_redirect():
    text = routers.rules_text(router(floating_ips=[FLOATING, UNASSOCIATED]), 9697)
    assert nat_rules(text) == [
        "-A PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 "
        "-j REDIRECT --to-ports 9697",
        "-A PREROUTING -d 172.24.4.10/32 -j DNAT --to-destination 10.0.0.11",
        "-A OUTPUT -d 172.24.4.10/32 -j DNAT --to-destination 10.0.0.11",
        f"-A POSTROUTING ! -o {QG} -m conntrack ! --ctstate DNAT -j ACCEPT",
        "-A POSTROUTING -s 10.0.0.11/32 -j SNAT --to-source 172.24.4.10",
        f"-A POSTROUTING -o {QG} -j SNAT --to-source 172.24.4.5",
        "-A POSTROUTING -m mark ! --mark 0x2/0xffff -m conntrack --ctstate DNAT "
        "-j SNAT --to-source 172.24.4.5"]
    assert f"-A INPUT -i {QG} -p tcp -m tcp --dport 9697 -j DROP" in text
    assert f"-A PREROUTING -i {QG} -j MARK --set-xmark 0x2/0xffff" in text


def test_without_snat_only_floating_ips_are_translated():
    rules = nat_rules(routers.rules_text(router(enable_snat=False, floating_ips=[FLOATING]),
                                         None))
    assert not [rule for rule in rules if "172.24.4.5" in rule or "REDIRECT" in rule]
    assert "-A POSTROUTING -s 10.0.0.11/32 -j SNAT --to-source 172.24.4.10" in rules


def test_a_router_without_gateway_has_only_the_metadata_redirect():
    assert len(nat_rules(routers.rules_text(router(gateway=False,
                                                   floating_ips=[FLOATING]), 9697))) == 1


def test_interfaces_carry_their_addresses_and_the_gateway_its_floating_ips():
    found = routers.interfaces(router(floating_ips=[FLOATING, UNASSOCIATED]))
    assert [(i["name"], i["tap"], i["bridge"], i["addresses"]) for i in found] == [
        ("qr-11111111-00", "tap11111111-00", "brqA", ["10.0.0.1/24"]),
        (QG, "tap99999999-aa", "br-ex", ["172.24.4.5/24", "172.24.4.10/32"])]


def test_routes_are_the_gateway_default_and_the_static_routes():
    assert routers.routes(router(routes=[{"destination": "192.168.0.0/16",
                                          "nexthop": "10.0.0.254"}])) == {
        ("0.0.0.0/0", "172.24.4.1"), ("192.168.0.0/16", "10.0.0.254")}
    assert routers.routes(router(gateway=False)) == set()
