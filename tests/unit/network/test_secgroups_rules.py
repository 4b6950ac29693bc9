"""Security group rules are checked and normalised as Neutron does, with its error types."""
import pytest

from undercloud.common.errors import BadRequest
from undercloud.network import secgroups


def rule(**fields):
    return secgroups.rule_from_request({"direction": "ingress", **fields})


def error_of(**fields) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        rule(**fields)
    return caught.value


def test_a_bare_rule_defaults_to_ipv4_any_protocol():
    assert rule() == {"direction": "ingress", "ethertype": "IPv4", "protocol": None,
                      "port_range_min": None, "port_range_max": None,
                      "remote_ip_prefix": None, "remote_group_id": None, "description": ""}


@pytest.mark.parametrize("given, stored", [("TCP", "tcp"), ("ipv6-icmp", "ipv6-icmp"),
                                           (17, "17"), ("17", "17"), ("any", None)])
def test_protocols_by_name_or_number(given, stored):
    ethertype = "IPv6" if given == "ipv6-icmp" else "IPv4"
    assert rule(protocol=given, ethertype=ethertype)["protocol"] == stored


@pytest.mark.parametrize("protocol", ["bad_protocol_name", 256, -1, True])
def test_an_unknown_protocol_is_refused(protocol):
    assert error_of(protocol=protocol).type == "SecurityGroupRuleInvalidProtocol"


def test_ethertype_is_case_insensitive_and_checked():
    assert rule(ethertype="ipv6")["ethertype"] == "IPv6"
    assert "'bad_ethertype' is not in" in error_of(ethertype="bad_ethertype").message


def test_direction_must_be_ingress_or_egress():
    with pytest.raises(BadRequest):
        secgroups.rule_from_request({"direction": "sideways"})


# tempest's test_create_security_group_rule_with_invalid_ports, message by message.
@pytest.mark.parametrize("low, high, message", [
    (-16, 80, "Invalid value for port -16"),
    (80, 79, "port_range_min must be <= port_range_max"),
    (80, 65536, "Invalid value for port 65536"),
    (None, 6, "port_range_min must be <= port_range_max"),
    (0, 80, "Invalid value for port 0"),
])
def test_tcp_port_ranges(low, high, message):
    assert message in error_of(protocol="tcp", port_range_min=low, port_range_max=high).message


@pytest.mark.parametrize("low, high, message", [
    (1, 256, "Invalid value for ICMP code"),
    (-1, 25, "Invalid value"),
    (None, 6, "ICMP type (port-range-min) is missing"),
    (300, 1, "Invalid value for ICMP type"),
])
def test_icmp_type_and_code(low, high, message):
    assert message in error_of(protocol="icmp", port_range_min=low, port_range_max=high).message


@pytest.mark.parametrize("low, high", [(3, 2), (8, 0), (11, None)])
def test_valid_icmp_type_and_code_are_kept(low, high):
    stored = rule(protocol="icmp", port_range_min=low, port_range_max=high)
    assert (stored["port_range_min"], stored["port_range_max"]) == (low, high)


def test_ports_need_a_protocol_and_a_port_protocol():
    assert error_of(port_range_min=22, port_range_max=22).type == \
        "SecurityGroupProtocolRequiredWithPorts"
    assert error_of(protocol="gre", port_range_min=1, port_range_max=2).type == \
        "SecurityGroupInvalidProtocolForPortRange"


@pytest.mark.parametrize("prefix", ["192.168.1./24", "192.168.1.1/33", "bad_prefix", "256"])
def test_a_bad_remote_prefix_is_refused(prefix):
    assert error_of(protocol="tcp", remote_ip_prefix=prefix).code == 400


def test_remote_prefix_is_normalised_and_matches_the_ethertype():
    assert rule(remote_ip_prefix="10.0.0.5/24")["remote_ip_prefix"] == "10.0.0.0/24"
    assert rule(remote_ip_prefix="10.0.0.5")["remote_ip_prefix"] == "10.0.0.5/32"
    conflict = error_of(ethertype="IPv6", remote_ip_prefix="10.0.0.0/8")
    assert "Conflicting value ethertype IPv6" in conflict.message


def test_prefix_and_remote_group_exclude_each_other():
    assert error_of(remote_ip_prefix="10.0.0.0/8", remote_group_id="g").type == \
        "SecurityGroupRemoteGroupAndRemoteIpPrefix"


def test_ipv6_icmp_needs_ipv6():
    assert error_of(protocol="ipv6-icmp").type == "SecurityGroupEthertypeConflictWithProtocol"


def test_the_same_rule_by_protocol_number_or_any_prefix():
    assert secgroups.rule_key(rule(protocol="tcp", port_range_min=22, port_range_max=22)) == \
        secgroups.rule_key(rule(protocol="6", port_range_min=22, port_range_max=22,
                                remote_ip_prefix="0.0.0.0/0"))
    assert secgroups.rule_key(rule(protocol="tcp")) != secgroups.rule_key(rule(protocol="udp"))
