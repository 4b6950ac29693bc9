"""Ports: the one place they are made, changed and removed, for the API, the network server
(DHCP ports), the L3 routes (router and floating IP ports) and compute's allocations.

Each public function runs in its own short db.transaction() (a savepoint when the caller is
already in one) and raises ApiErrors with Neutron's types. Callers that answer an API request
call undercloud.network.notify.changed() after their transaction commits.
"""
import ipaddress
import random
import re

import peewee

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict
from undercloud.network import faults, ipam
from undercloud.network.models import (FloatingIP, IPAllocation, Port, PortSecurityGroup,
                                       SecurityGroup, Subnet, Tag)
from undercloud.network.security import ensure_default_group

MAC_PREFIX = (0xFA, 0x16, 0x3E)   # OpenStack's base_mac
MAC_ATTEMPTS = 16
MAC_PATTERN = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$")
VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder",
              "smart-nic", "remote-managed", "vdpa")
# A port with this device_owner prefix belongs to the network itself: no security groups.
NETWORK_OWNER_PREFIX = "network:"
DHCP_OWNER = "network:dhcp"
COMPUTE_OWNER_PREFIX = "compute:"
BRIDGE_VIF_DETAILS = {"port_filter": True, "connectivity": "l2"}


# ---- checks on the request -------------------------------------------------------------------

def normalize_mac(text) -> str:
    if not isinstance(text, str) or not MAC_PATTERN.match(text.lower()):
        raise faults.invalid_input(f"'{text}' is not a valid MAC address")
    mac = text.lower().replace("-", ":")
    if int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
        raise faults.invalid_input(f"'{text}' is not a valid MAC address: it is a multicast "
                                   "or all-zero address")
    return mac


def random_mac() -> str:
    return ":".join(f"{octet:02x}" for octet in
                    (*MAC_PREFIX, *(random.randrange(256) for _ in range(3))))


def _fixed_ip_list(fixed_ips) -> list[dict]:
    if not isinstance(fixed_ips, list):
        raise faults.invalid_input(f"Invalid data format for fixed IP: '{fixed_ips}'")
    entries = []
    for fixed in fixed_ips:
        if not isinstance(fixed, dict) or set(fixed) - {"subnet_id", "ip_address"} \
                or not fixed:
            raise faults.invalid_input(f"Invalid data format for fixed IP: '{fixed}'")
        if "ip_address" in fixed:
            try:
                ipaddress.ip_address(fixed["ip_address"])
            except (TypeError, ValueError):
                raise faults.invalid_input(f"'{fixed['ip_address']}' is not a valid IP "
                                           "address") from None
        entries.append(dict(fixed))
    return entries


def _security_groups(project_id, security_group_ids, port_security: bool, device_owner: str):
    if security_group_ids is None:
        if not port_security or device_owner.startswith(NETWORK_OWNER_PREFIX):
            return []
        group = ensure_default_group(project_id)
        return [group] if group else []
    if not isinstance(security_group_ids, list):
        raise faults.invalid_input(f"Invalid security groups '{security_group_ids}': a list "
                                   "of security group ids is expected")
    groups = []
    for group_id in dict.fromkeys(security_group_ids):
        group = SecurityGroup.get_or_none(SecurityGroup.id == group_id)
        if group is None or group.project_id != project_id:
            raise faults.security_group_not_found(group_id)
        groups.append(group)
    if groups and not port_security:
        raise BadRequest("Port security must be enabled and port must have an IP address in "
                         "order to use security groups.",
                         type="PortSecurityAndIPRequiredForSecurityGroups")
    return groups


def _address_pairs(pairs, port_security: bool) -> list[dict]:
    if not pairs:
        return []
    if not isinstance(pairs, list):
        raise faults.invalid_input(f"Allowed address pairs must be a list, not '{pairs}'")
    if not port_security:
        raise Conflict("Port Security must be enabled in order to have allowed address pairs "
                       "on a port.", type="AddressPairAndPortSecurityRequired")
    normalized, seen = [], set()
    for pair in pairs:
        if not isinstance(pair, dict) or "ip_address" not in pair \
                or set(pair) - {"ip_address", "mac_address"}:
            raise faults.invalid_input(f"Invalid allowed address pair {pair}: it needs an "
                                       "'ip_address' and may have a 'mac_address'")
        try:
            ipaddress.ip_network(pair["ip_address"], strict=False)
        except (TypeError, ValueError):
            raise faults.invalid_input(f"'{pair['ip_address']}' is not a valid IP address or "
                                       "CIDR") from None
        item = {"ip_address": pair["ip_address"]}
        if pair.get("mac_address"):
            item["mac_address"] = normalize_mac(pair["mac_address"])
        key = (item["ip_address"], item.get("mac_address"))
        if key in seen:
            raise faults.invalid_input(f"Request contains duplicate address pair: mac_address "
                                       f"{key[1]} ip_address {key[0]}.")
        seen.add(key)
        normalized.append(item)
    return normalized


def _dhcp_options(options) -> list[dict]:
    if not options:
        return []
    if not isinstance(options, list):
        raise faults.invalid_input(f"Extra DHCP options must be a list, not '{options}'")
    normalized = []
    for option in options:
        if not isinstance(option, dict) or not option.get("opt_name") \
                or set(option) - {"opt_name", "opt_value", "ip_version"}:
            raise faults.invalid_input(f"Invalid extra DHCP option {option}: it needs an "
                                       "'opt_name', an 'opt_value' and may have an "
                                       "'ip_version'")
        version = option.get("ip_version", 4)
        try:
            version = int(version)
        except (TypeError, ValueError):
            version = None
        if version not in (4, 6):
            raise faults.invalid_input(f"Invalid ip_version {option.get('ip_version')!r} in "
                                       "extra DHCP option: use 4 or 6")
        value = option.get("opt_value")
        normalized.append({"opt_name": str(option["opt_name"]),
                           "opt_value": None if value is None else str(value),
                           "ip_version": version})
    return normalized


def _vnic_type(value) -> str:
    if value not in VNIC_TYPES:
        raise faults.invalid_input(f"'{value}' is not in {list(VNIC_TYPES)}")
    return value


def _binding(host_id: str) -> tuple[str, dict]:
    """vif_type and vif_details: a Linux bridge agent binds every port on a host."""
    return ("bridge", dict(BRIDGE_VIF_DETAILS)) if host_id else ("unbound", {})


# ---- addresses -------------------------------------------------------------------------------

def _subnet_for(fixed: dict, subnets: list, network) -> Subnet:
    """The subnet a fixed_ips entry means; 400 when it is not one of the network's."""
    if not subnets:
        raise faults.invalid_input("IP allocation requires subnets for network")
    if "subnet_id" in fixed:
        subnet = next((s for s in subnets if s.id == fixed["subnet_id"]), None)
        if subnet is None:
            if not Subnet.select().where(Subnet.id == fixed["subnet_id"]).exists():
                raise faults.not_found("Subnet", fixed["subnet_id"])
            raise faults.invalid_input(f"Failed to create port on network {network.id}, "
                                       f"because fixed_ips included invalid subnet "
                                       f"{fixed['subnet_id']}")
        if "ip_address" in fixed and not ipam.valid_for_subnet(
                subnet, fixed["ip_address"], fixed.get("device_owner", "")):
            raise BadRequest(f"IP address {fixed['ip_address']} is not a valid IP for the "
                             "specified subnet.", type="InvalidIpForSubnet")
        return subnet
    for subnet in subnets:
        if ipam.valid_for_subnet(subnet, fixed["ip_address"], fixed.get("device_owner", "")):
            return subnet
    raise BadRequest(f"IP address {fixed['ip_address']} is not a valid IP for any of the "
                     "subnets on the specified network.", type="InvalidIpForNetwork")


def _plan(network, fixed_ips, device_owner: str, mac: str, keep_subnets=()) -> list[tuple]:
    """What to allocate, as Neutron's IPAM decides it: [("ip", subnet, address) |
    ("subnet", subnet) | ("any", [subnets]) | ("eui64", subnet)]."""
    subnets = ipam.serving(ipam.subnets_of(network.id), device_owner)
    router = device_owner in ipam.ROUTER_INTERFACE_OWNERS
    plan = []
    if fixed_ips is None:
        v4 = [s for s in subnets if s.ip_version == 4]
        v6 = [s for s in subnets if s.ip_version == 6 and not ipam.is_auto_address(s)]
        plan += [("any", group) for group in (v4, v6) if group]
    else:
        for fixed in fixed_ips:
            subnet = _subnet_for({**fixed, "device_owner": device_owner}, subnets, network)
            auto = ipam.is_auto_address(subnet)
            if "ip_address" in fixed:
                if auto and not router and \
                        ipaddress.ip_address(fixed["ip_address"]) != \
                        ipaddress.ip_address(ipam.eui64(subnet.cidr, mac)):
                    raise faults.invalid_input(
                        f"IPv6 address {fixed['ip_address']} cannot be directly assigned to a "
                        f"port on subnet {subnet.id} as the subnet is configured for "
                        "automatic addresses")
                plan.append(("ip", subnet, fixed["ip_address"]))
            elif router or not auto:
                plan.append(("subnet", subnet))
    if not router:
        named = {step[1].id for step in plan if step[0] == "ip"} | set(keep_subnets)
        plan += [("eui64", s) for s in subnets if ipam.is_auto_address(s) and s.id not in named]
    return plan


def _allocate(port, network, plan: list[tuple]):
    for step in plan:
        kind = step[0]
        if kind == "ip":
            ipam.allocate_specific(port, step[1], step[2])
        elif kind == "eui64":
            ipam.allocate_eui64(port, step[1])
        elif ipam.allocate_any(port, step[1] if kind == "any" else [step[1]]) is None:
            raise ipam.exhausted(network.id)


def port_fixed_ips(port) -> list[dict]:
    """[{"subnet_id", "ip_address"}] in the order of the subnets' creation."""
    return fixed_ips_of([port.id]).get(port.id, [])


def fixed_ips_of(port_ids) -> dict[str, list[dict]]:
    """{port id: [{"subnet_id", "ip_address"}]} for many ports in one query."""
    result: dict[str, list[dict]] = {}
    port_ids = list(port_ids)
    if not port_ids:
        return result
    query = (IPAllocation.select(IPAllocation.port, IPAllocation.subnet,
                                 IPAllocation.ip_address)
             .join(Subnet, on=(IPAllocation.subnet == Subnet.id))
             .where(IPAllocation.port.in_(port_ids))
             .order_by(Subnet.ip_version, Subnet.created_at, Subnet.id, IPAllocation.ip_address))
    for row in query:
        result.setdefault(row.port_id, []).append({"subnet_id": row.subnet_id,
                                                   "ip_address": row.ip_address})
    return result


def security_group_ids_of(port_ids) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    port_ids = list(port_ids)
    if port_ids:
        query = PortSecurityGroup.select().where(PortSecurityGroup.port.in_(port_ids)) \
            .order_by(PortSecurityGroup.security_group)
        for row in query:
            result.setdefault(row.port_id, []).append(row.security_group_id)
    return result


# ---- create, update, delete ------------------------------------------------------------------

def _insert_port(values: dict, mac: str | None, network) -> Port:
    for _ in range(MAC_ATTEMPTS):
        try:
            with db.transaction():
                return Port.create(**values, mac_address=mac or random_mac())
        except peewee.IntegrityError as error:
            # Only the (network, mac) index means a MAC clash; anything else is what it is.
            if db.unique_columns(error) != ("network_id", "mac_address"):
                raise
            if mac:
                raise Conflict(f"Unable to complete operation for network {network.id}. The "
                               f"mac address {mac} is in use.", type="MacAddressInUse") from None
    raise Conflict(f"Unable to generate a unique mac on network {network.id}.",
                   type="MacAddressGenerationFailure")


def create_port(network, project_id, *, fixed_ips=None, mac_address=None, device_id="",
                device_owner="", name="", description="", admin_state_up=True,
                security_group_ids=None, port_security_enabled=None,
                allowed_address_pairs=None, extra_dhcp_opts=None, binding_host_id="",
                binding_profile=None, binding_vnic_type="normal") -> Port:
    """A new port on network with its addresses (fixed_ips None: Neutron's automatic choice)
    and security groups (None: the project's default group, unless port security is off or
    the network owns the port)."""
    mac = normalize_mac(mac_address) if mac_address else None
    device_owner = device_owner or ""
    port_security = network.port_security_enabled if port_security_enabled is None \
        else bool(port_security_enabled)
    requests = None if fixed_ips is None else _fixed_ip_list(fixed_ips)
    groups = _security_groups(project_id, security_group_ids, port_security, device_owner)
    pairs = _address_pairs(allowed_address_pairs, port_security)
    options = _dhcp_options(extra_dhcp_opts)
    vif_type, vif_details = _binding(binding_host_id)
    values = {"network": network.id, "project_id": project_id, "name": name or "",
              "description": description or "", "device_id": device_id or "",
              "device_owner": device_owner, "admin_state_up": bool(admin_state_up),
              "port_security_enabled": port_security, "allowed_address_pairs": pairs,
              "extra_dhcp_opts": options, "binding_host_id": binding_host_id or "",
              "binding_profile": binding_profile or {},
              "binding_vnic_type": _vnic_type(binding_vnic_type or "normal"),
              "binding_vif_type": vif_type, "binding_vif_details": vif_details}
    with db.transaction():
        port = _insert_port(values, mac, network)
        _allocate(port, network, _plan(network, requests, device_owner, port.mac_address))
        for group in groups:
            PortSecurityGroup.create(port=port.id, security_group=group.id)
    return port


def _changes(port, current: list[dict], requested: list[dict]) -> tuple[list, list]:
    """(to_add, to_remove) as Neutron computes them: addresses named stay, a subnet named
    keeps one of its addresses, automatic (EUI-64) addresses stay unless the port is a router's."""
    keep, add = [], []
    by_ip = {ipaddress.ip_address(a["ip_address"]): a for a in current}
    for fixed in requested:
        if "ip_address" in fixed:
            original = by_ip.pop(ipaddress.ip_address(fixed["ip_address"]), None)
            (keep if original else add).append(original or fixed)
    by_subnet: dict[str, list] = {}
    for allocation in by_ip.values():
        by_subnet.setdefault(allocation["subnet_id"], []).append(allocation)
    for fixed in requested:
        if "ip_address" not in fixed:
            originals = by_subnet.get(fixed["subnet_id"])
            if originals:
                keep.append(originals.pop())
            else:
                add.append(fixed)
    router = port.device_owner in ipam.ROUTER_INTERFACE_OWNERS
    remove = []
    for allocation in (a for rest in by_subnet.values() for a in rest):
        subnet = Subnet.get_or_none(Subnet.id == allocation["subnet_id"])
        if subnet is not None and ipam.is_auto_address(subnet) and not router:
            keep.append(allocation)
        else:
            remove.append(allocation)
    return add, remove


def update_fixed_ips(port, fixed_ips) -> None:
    """Make the port's addresses what fixed_ips asks, keeping what it still names."""
    requested = _fixed_ip_list(fixed_ips)
    with db.transaction():
        current = port_fixed_ips(port)
        add, remove = _changes(port, current, requested)
        for allocation in remove:
            IPAllocation.delete().where(IPAllocation.port == port.id,
                                        IPAllocation.subnet == allocation["subnet_id"],
                                        IPAllocation.ip_address == allocation["ip_address"]
                                        ).execute()
        kept = {a["subnet_id"] for a in current if a not in remove}
        plan = _plan(port.network, add, port.device_owner, port.mac_address, keep_subnets=kept)
        _allocate(port, port.network, plan)


def set_security_groups(port, security_group_ids) -> None:
    """Replace the port's security groups (400 while port security is off)."""
    groups = _security_groups(port.project_id, list(security_group_ids or []),
                              port.port_security_enabled, port.device_owner)
    with db.transaction():
        PortSecurityGroup.delete().where(PortSecurityGroup.port == port.id).execute()
        for group in groups:
            PortSecurityGroup.create(port=port.id, security_group=group.id)


UPDATABLE = ("name", "description", "admin_state_up", "device_id", "device_owner",
             "binding_host_id", "binding_profile", "binding_vnic_type")


def update_port(port, *, fixed_ips=None, mac_address=None, security_group_ids=None,
                port_security_enabled=None, allowed_address_pairs=None, extra_dhcp_opts=None,
                **attributes) -> Port:
    """Change what is given (None leaves an attribute as it is); bumps revision_number."""
    unknown = set(attributes) - set(UPDATABLE)
    if unknown:
        raise TypeError(f"update_port() got unexpected attributes {sorted(unknown)}")
    with db.transaction():
        port = Port.get_by_id(port.id)
        if port_security_enabled is not None:
            port.port_security_enabled = bool(port_security_enabled)
        groups_now = security_group_ids_of([port.id]).get(port.id, [])
        if not port.port_security_enabled:
            if security_group_ids or (security_group_ids is None and groups_now):
                raise Conflict("Port has security group associated. Cannot disable port "
                               "security or IP address until security group is removed",
                               type="PortSecurityPortHasSecurityGroup")
            pairs_now = port.allowed_address_pairs if allowed_address_pairs is None \
                else allowed_address_pairs
            if pairs_now:
                raise Conflict("Port Security must be enabled in order to have allowed "
                               "address pairs on a port.",
                               type="AddressPairAndPortSecurityRequired")
        if mac_address is not None:
            mac = normalize_mac(mac_address)
            if mac != port.mac_address:
                if Port.select().where(Port.network == port.network_id,
                                       Port.mac_address == mac).exists():
                    raise Conflict(f"Unable to complete operation for network "
                                   f"{port.network_id}. The mac address {mac} is in use.",
                                   type="MacAddressInUse")
                port.mac_address = mac
        if allowed_address_pairs is not None:
            port.allowed_address_pairs = _address_pairs(allowed_address_pairs,
                                                        port.port_security_enabled)
        if extra_dhcp_opts is not None:
            port.extra_dhcp_opts = _merge_dhcp_options(port.extra_dhcp_opts,
                                                       extra_dhcp_opts)
        for name, value in attributes.items():
            if value is None:
                continue
            if name == "binding_vnic_type":
                value = _vnic_type(value)
            setattr(port, name, value if name != "admin_state_up" else bool(value))
        if "binding_host_id" in attributes and attributes["binding_host_id"] is not None:
            port.binding_vif_type, port.binding_vif_details = _binding(port.binding_host_id)
        port.revision_number += 1
        port.save()
        if security_group_ids is not None:
            set_security_groups(port, security_group_ids)
        if fixed_ips is not None:
            update_fixed_ips(port, fixed_ips)
    return port


def _merge_dhcp_options(current: list[dict], changes) -> list[dict]:
    """Neutron's update: an option with a null value is removed, others added or replaced."""
    options = {(o["opt_name"], o["ip_version"]): o for o in current}
    for option in _dhcp_options(changes):
        key = (option["opt_name"], option["ip_version"])
        if option["opt_value"] is None:
            options.pop(key, None)
        else:
            options[key] = option
    return list(options.values())


def delete_port(port) -> None:
    """Remove the port, its addresses, groups and tags; floating IPs on it are disassociated."""
    with db.transaction():
        FloatingIP.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN").where(
            FloatingIP.port_id == port.id).execute()
        Tag.delete().where(Tag.resource_type == "ports", Tag.resource_id == port.id).execute()
        IPAllocation.delete().where(IPAllocation.port == port.id).execute()
        PortSecurityGroup.delete().where(PortSecurityGroup.port == port.id).execute()
        Port.delete().where(Port.id == port.id).execute()
