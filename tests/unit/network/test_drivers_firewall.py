"""Security group rules as iptables lines: what a guest's chains say, without root."""
from undercloud.network.drivers import firewall

PORT_ID = "11111111-2222-3333-4444-555555555555"
INGRESS, EGRESS, SPOOF = "sbx-i-11111111-22", "sbx-o-11111111-22", "sbx-s-11111111-22"


def rule(direction="ingress", ethertype="IPv4", protocol=None, low=None, high=None,
         prefix=None, group=None):
    return {"id": "r", "direction": direction, "ethertype": ethertype, "protocol": protocol,
            "port_range_min": low, "port_range_max": high, "remote_ip_prefix": prefix,
            "remote_group_id": group}


def port(**overrides):
    values = {"id": PORT_ID, "tap": "tap11111111-22", "mac_address": "fa:16:3e:00:00:01",
              "admin_state_up": True, "port_security_enabled": True,
              "security_group_ids": ["web"],
              "fixed_ips": [{"subnet_id": "s4", "ip_address": "10.0.0.5"},
                            {"subnet_id": "s6", "ip_address": "fd00::5"}],
              "allowed_address_pairs": []}
    values.update(overrides)
    return values


def test_a_port_range_becomes_a_destination_port_match():
    assert firewall.rule_lines(INGRESS, rule(protocol="tcp", low=22, high=22), 4, {}) == [
        f"-A {INGRESS} -p tcp -m tcp --dport 22 -j RETURN"]
    assert firewall.rule_lines(INGRESS, rule(protocol="udp", low=1000, high=2000), 4, {}) == [
        f"-A {INGRESS} -p udp -m udp --dport 1000:2000 -j RETURN"]
    assert firewall.rule_lines(INGRESS, rule(protocol="tcp", low=1, high=65535), 4, {}) == [
        f"-A {INGRESS} -p tcp -j RETURN"]


def test_icmp_type_and_code_for_each_family():
    assert firewall.rule_lines(INGRESS, rule(protocol="icmp", low=8, high=0), 4, {}) == [
        f"-A {INGRESS} -p icmp -m icmp --icmp-type 8/0 -j RETURN"]
    assert firewall.rule_lines(INGRESS, rule(protocol="icmp"), 4, {}) == [
        f"-A {INGRESS} -p icmp -j RETURN"]
    # Neutron accepts icmp, icmpv6, ipv6-icmp and 58 for IPv6 rules alike.
    for name in ("icmp", "icmpv6", "ipv6-icmp", "58"):
        assert firewall.rule_lines(INGRESS, rule(ethertype="IPv6", protocol=name, low=128),
                                   6, {}) == [
            f"-A {INGRESS} -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j RETURN"]


def test_protocols_without_ports_go_by_number():
    assert firewall.rule_lines(EGRESS, rule("egress", protocol="gre"), 4, {}) == [
        f"-A {EGRESS} -p 47 -j RETURN"]
    assert firewall.rule_lines(EGRESS, rule("egress", protocol="112"), 4, {}) == [
        f"-A {EGRESS} -p 112 -j RETURN"]


def test_remote_prefixes_and_groups_name_the_other_side():
    assert firewall.rule_lines(INGRESS, rule(prefix="10.1.0.0/16"), 4, {}) == [
        f"-A {INGRESS} -s 10.1.0.0/16 -j RETURN"]
    assert firewall.rule_lines(EGRESS, rule("egress", prefix="192.168.1.7"), 4, {}) == [
        f"-A {EGRESS} -d 192.168.1.7/32 -j RETURN"]
    assert firewall.rule_lines(INGRESS, rule(prefix="0.0.0.0/0"), 4, {}) == [
        f"-A {INGRESS} -j RETURN"]
    groups = {"web": {"member_ips": {"IPv4": ["10.0.0.7", "10.0.0.5"], "IPv6": ["fd00::7"]}}}
    assert firewall.rule_lines(INGRESS, rule(protocol="tcp", low=80, high=80, group="web"),
                               4, groups) == [
        f"-A {INGRESS} -s 10.0.0.5/32 -p tcp -m tcp --dport 80 -j RETURN",
        f"-A {INGRESS} -s 10.0.0.7/32 -p tcp -m tcp --dport 80 -j RETURN"]
    assert firewall.rule_lines(INGRESS, rule(ethertype="IPv6", group="web"), 6, groups) == [
        f"-A {INGRESS} -s fd00::7/128 -j RETURN"]
    # A remote group without members admits nobody; a rule of the other family does nothing.
    assert firewall.rule_lines(INGRESS, rule(group="empty"), 4, groups) == []
    assert firewall.rule_lines(INGRESS, rule(ethertype="IPv6"), 4, groups) == []


def test_a_guest_port_gets_ingress_egress_and_anti_spoofing_chains():
    groups = {"web": {"stateful": True, "rules": [rule(protocol="tcp", low=22, high=22),
                                                  rule("egress")]}}
    ruleset = firewall.build(4, "sbx-top", [port(allowed_address_pairs=[
        {"ip_address": "10.0.9.0/24", "mac_address": "fa:16:3e:00:00:99"}])], groups,
        ["brq1"])
    assert ruleset.chains == ["sbx-top", INGRESS, EGRESS, SPOOF]
    assert ruleset.rules == [
        f"-A sbx-top -m physdev --physdev-out tap11111111-22 --physdev-is-bridged -j {INGRESS}",
        f"-A sbx-top -m physdev --physdev-in tap11111111-22 --physdev-is-bridged -j {EGRESS}",
        "-A sbx-top -o brq1 -m physdev --physdev-is-bridged -j ACCEPT",
        f"-A {INGRESS} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {INGRESS} -p udp -m udp --sport 67 --dport 68 -j RETURN",
        f"-A {INGRESS} -m conntrack --ctstate INVALID -j DROP",
        f"-A {INGRESS} -p tcp -m tcp --dport 22 -j RETURN",
        f"-A {INGRESS} -j DROP",
        f"-A {EGRESS} -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 "
        f"-j RETURN",
        f"-A {EGRESS} -j {SPOOF}",
        f"-A {EGRESS} -p udp -m udp --sport 68 --dport 67 -j RETURN",
        f"-A {EGRESS} -p udp -m udp --sport 67 --dport 68 -j DROP",
        f"-A {EGRESS} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {EGRESS} -m conntrack --ctstate INVALID -j DROP",
        f"-A {EGRESS} -j RETURN",
        f"-A {EGRESS} -j DROP",
        f"-A {SPOOF} -s 10.0.0.5/32 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN",
        f"-A {SPOOF} -s 10.0.9.0/24 -m mac --mac-source fa:16:3e:00:00:99 -j RETURN",
        f"-A {SPOOF} -j DROP"]


def test_ipv6_allows_neighbour_discovery_and_the_link_local_address():
    ruleset = firewall.build(6, "sbx-top", [port()], {"web": {"rules": []}}, [])
    assert f"-A {INGRESS} -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j RETURN" in ruleset.rules
    assert f"-A {EGRESS} -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP" in ruleset.rules
    assert f"-A {EGRESS} -p udp -m udp --sport 547 --dport 546 -j DROP" in ruleset.rules
    assert [line for line in ruleset.rules if line.startswith(f"-A {SPOOF}")] == [
        f"-A {SPOOF} -s fd00::5/128 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN",
        f"-A {SPOOF} -s fe80::f816:3eff:fe00:1/128 -m mac --mac-source fa:16:3e:00:00:01 "
        f"-j RETURN",
        f"-A {SPOOF} -j DROP"]


def test_stateless_groups_get_no_connection_tracking():
    ruleset = firewall.build(4, "sbx-top", [port()], {"web": {"stateful": False, "rules": []}},
                             [])
    assert not [line for line in ruleset.rules if "conntrack" in line]


def test_unprotected_and_disabled_ports():
    assert firewall.build(4, "sbx-top", [port(port_security_enabled=False)], {}, []).rules == []
    down = firewall.build(4, "sbx-top", [port(admin_state_up=False)], {}, [])
    assert down.chains == ["sbx-top"]
    assert down.rules == [
        "-A sbx-top -m physdev --physdev-out tap11111111-22 --physdev-is-bridged -j DROP",
        "-A sbx-top -m physdev --physdev-in tap11111111-22 --physdev-is-bridged -j DROP"]


def test_the_restore_text_hooks_once_and_deletes_stale_chains_after_flushing_them():
    text = firewall.RuleSet(["sbx-top"], ["-A sbx-top -j ACCEPT"]).text(
        stale={"sbx-i-old"}, hook="sbx-top")
    assert text == ("*filter\n:sbx-top - [0:0]\n:sbx-i-old - [0:0]\n-I FORWARD 1 -j sbx-top\n"
                    "-A sbx-top -j ACCEPT\n-X sbx-i-old\nCOMMIT\n")
    assert firewall.RuleSet().text(stale={"sbx-top"}, unhook="sbx-top") == (
        "*filter\n-D FORWARD -j sbx-top\n:sbx-top - [0:0]\n-X sbx-top\nCOMMIT\n")
