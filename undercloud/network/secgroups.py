"""Security group rules as Neutron checks them: protocols, port ranges, ICMP, prefixes.

`rule_from_request` turns a POST body into the columns to store, or raises Neutron's error
(same type names and messages, so clients and tempest recognise them). `rule_key` says when
two rules are the same rule (Neutron's duplicate check).
"""
import ipaddress

from undercloud.common.errors import BadRequest

# neutron_lib.constants.IP_PROTOCOL_MAP: the names Neutron accepts, and their numbers.
PROTOCOL_NUMBERS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
    "ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}
# Protocols whose port_range_min/max are ports (the rest only take a single "port").
PORT_PROTOCOLS = {6, 17, 33, 132, 136}
ICMP_PROTOCOLS = {1, 58}
IPV6_ONLY_PROTOCOLS = {"ipv6-icmp", "icmpv6", "58"}
DIRECTIONS = ("ingress", "egress")
ETHERTYPES = ("IPv4", "IPv6")
# "any" is what clients send for "every protocol": stored as no protocol, as Neutron does.
ANY = "any"


def _invalid(message: str, kind: str) -> BadRequest:
    return BadRequest(message, type=kind)


def protocol_number(protocol) -> int | None:
    """The IP protocol number of a stored protocol (a name or a number), None for any."""
    if protocol is None:
        return None
    text = str(protocol).lower()
    return int(text) if text.isdigit() else PROTOCOL_NUMBERS[text]


def _protocol(value) -> str | None:
    if value is None or (isinstance(value, str) and value.lower() == ANY):
        return None
    supported = ", ".join([*PROTOCOL_NUMBERS, ANY])
    wrong = _invalid(f"Security group rule protocol {value} not supported. Only protocol "
                     f"values [None, {supported}] and integer representations [0 to 255] "
                     f"are supported.", "SecurityGroupRuleInvalidProtocol")
    if isinstance(value, bool):
        raise wrong
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        if not 0 <= int(value) <= 255:
            raise wrong
        return str(int(value))
    if isinstance(value, str) and value.lower() in PROTOCOL_NUMBERS:
        return value.lower()
    raise wrong


def _port(value) -> int | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        port = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"Invalid value for port {value}",
                       "SecurityGroupInvalidPortValue") from None
    if not 0 <= port <= 65535:
        raise _invalid(f"Invalid value for port {value}", "SecurityGroupInvalidPortValue")
    return port


def _ethertype(value) -> str:
    if value is None:
        return "IPv4"
    for ethertype in ETHERTYPES:
        if isinstance(value, str) and value.lower() == ethertype.lower():
            return ethertype
    raise _invalid(f"Invalid input for ethertype. Reason: '{value}' is not in "
                   f"{list(ETHERTYPES)}.", "HTTPBadRequest")


def _direction(value) -> str:
    if value not in DIRECTIONS:
        raise _invalid(f"Invalid input for direction. Reason: '{value}' is not in "
                       f"{list(DIRECTIONS)}.", "HTTPBadRequest")
    return value


def normalise_prefix(value, ethertype: str) -> str | None:
    """A remote_ip_prefix as a network ("10.0.0.5/24" -> "10.0.0.0/24", an address -> /32),
    of the rule's ethertype."""
    if value in (None, ""):
        return None
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise _invalid(f"'{value}' is not a valid IP subnet.", "InvalidCIDR") from None
    if f"IPv{network.version}" != ethertype:
        raise _invalid(f"Conflicting value ethertype {ethertype} for CIDR {network}",
                       "SecurityGroupRuleParameterConflict")
    return str(network)


def _check_ports(protocol: str | None, low: int | None, high: int | None) -> None:
    """Neutron's _validate_port_range."""
    if low is None and high is None:
        return
    if protocol is None:
        raise _invalid("Must also specify protocol if port range is given.",
                       "SecurityGroupProtocolRequiredWithPorts")
    number = protocol_number(protocol)
    if number in PORT_PROTOCOLS:
        if low == 0 or high == 0:
            raise _invalid("Invalid value for port 0", "SecurityGroupInvalidPortValue")
        if low is not None and high is not None and low <= high:
            return
        raise _invalid("For TCP/UDP protocols, port_range_min must be <= port_range_max",
                       "SecurityGroupInvalidPortRange")
    if number in ICMP_PROTOCOLS:
        for value, field, attribute in ((low, "type", "port_range_min"),
                                        (high, "code", "port_range_max")):
            if value is not None and not 0 <= value <= 255:
                raise _invalid(f"Invalid value for ICMP {field} ({attribute}) {value}. It must "
                               f"be 0 to 255.", "SecurityGroupInvalidIcmpValue")
        if low is None:
            raise _invalid(f"ICMP code (port-range-max) {high} is provided but ICMP type "
                           f"(port-range-min) is missing.", "SecurityGroupMissingIcmpType")
        return
    if low is not None and high is not None and low != high:
        raise _invalid(f"Invalid protocol {protocol} for port range, only supported for TCP, "
                       f"UDP, UDPLITE, SCTP and DCCP.",
                       "SecurityGroupInvalidProtocolForPortRange")


def rule_from_request(body: dict) -> dict:
    """The rule's columns from a POST body, checked as Neutron checks them.

    The caller resolves security_group_id and remote_group_id (they need the database)."""
    ethertype = _ethertype(body.get("ethertype"))
    rule = {
        "direction": _direction(body.get("direction")),
        "ethertype": ethertype,
        "protocol": _protocol(body.get("protocol")),
        "port_range_min": _port(body.get("port_range_min")),
        "port_range_max": _port(body.get("port_range_max")),
        "remote_ip_prefix": normalise_prefix(body.get("remote_ip_prefix"), ethertype),
        "remote_group_id": body.get("remote_group_id"),
        "description": body.get("description") or "",
    }
    if rule["remote_ip_prefix"] and rule["remote_group_id"]:
        raise _invalid("Only remote_ip_prefix or remote_group_id may be provided.",
                       "SecurityGroupRemoteGroupAndRemoteIpPrefix")
    if ethertype == "IPv4" and rule["protocol"] in IPV6_ONLY_PROTOCOLS:
        raise _invalid(f"Invalid ethertype {ethertype} for protocol {rule['protocol']}.",
                       "SecurityGroupEthertypeConflictWithProtocol")
    _check_ports(rule["protocol"], rule["port_range_min"], rule["port_range_max"])
    return rule


def rule_key(rule) -> tuple:
    """What makes two rules of a group the same rule: "0.0.0.0/0" is no prefix, tcp is 6."""
    get = rule.get if isinstance(rule, dict) else lambda name: getattr(rule, name)
    prefix = get("remote_ip_prefix")
    return (get("direction"), get("ethertype"), protocol_number(get("protocol")),
            get("port_range_min"), get("port_range_max"), get("remote_group_id"),
            None if prefix in ("0.0.0.0/0", "::/0") else prefix)
