"""What compute asks of the network: ports for its instances, as Nova's network API asks Neutron.

A server's requested networks become ports bound to its host (device_id the instance,
device_owner compute:<zone>). Ports compute makes carry a mark in their binding profile so
they are deleted with the instance; ports the user passed in are only unbound. Every function
is safe to repeat: a build retried after a crash, or a delete sent twice, changes nothing more.
"""
import ipaddress
import logging

import peewee

from undercloud import db
from undercloud.common.errors import ApiError
from undercloud.network import agents, devices, ports, quotas, security
from undercloud.network.models import (FloatingIP, IPAllocation, Network, Port, SecurityGroup,
                                       Subnet)
from undercloud.network.rpcapi import (AgentAPI, InvalidNetworkRequest, NetworkAttachForbidden,
                                       NetworkRequestConflict, NetworkRequestNotFound)

LOG = logging.getLogger(__name__)
GUEST_OWNER_PREFIX = "compute:"
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed")
# The binding profile key of ports compute made (Nova's "preserve_on_delete", inverted).
DELETE_WITH_INSTANCE = "delete_with_instance"
_AGENTS: dict = {}


def _is_admin(context: dict | None) -> bool:
    return "admin" in ((context or {}).get("roles") or [])


# ---- checks -----------------------------------------------------------------------------------

def _network(network_id: str, project_id: str, admin: bool) -> Network:
    """A network the project may plug a guest into, with a subnet to give it an address."""
    network = Network.get_or_none(Network.id == str(network_id))
    if network is None or not (admin or network.project_id == project_id or network.shared
                               or network.external):
        raise NetworkRequestNotFound(f"Network {network_id} could not be found.")
    if network.external and not network.shared and not admin:
        raise NetworkAttachForbidden(f"It is not allowed to create an interface on external "
                                     f"network {network_id}")
    if not Subnet.select().where(Subnet.network == network).exists():
        raise InvalidNetworkRequest(f"Network {network_id} requires a subnet in order to boot "
                                    f"instances on.")
    return network


def _auto_network(project_id: str, admin: bool) -> Network | None:
    """Nova's "auto": the project's own network, or a shared one, when there is exactly one."""
    candidates = list(Network.select().where(
        ((Network.project_id == project_id) & (Network.shared == False))  # noqa: E712
        | (Network.shared == True), Network.admin_state_up == True)  # noqa: E712
        .order_by(Network.created_at))
    if not candidates:
        return None
    if len(candidates) > 1:
        raise NetworkRequestConflict("Multiple possible networks found, use a Network ID to be "
                                     "more specific.")
    return _network(candidates[0].id, project_id, admin)


def _free_port(port_id: str, instance_id: str | None, project_id: str, admin: bool) -> Port:
    """A port the user passed in: theirs, with an address, and not plugged into anything else."""
    port = Port.get_or_none(Port.id == str(port_id))
    if port is None or not (admin or port.project_id == project_id):
        raise NetworkRequestNotFound(f"Port id {port_id} could not be found.")
    if port.device_id and port.device_id != instance_id:
        raise NetworkRequestConflict(f"Port {port_id} is still in use.")
    if not IPAllocation.select().where(IPAllocation.port == port).exists():
        raise InvalidNetworkRequest(f"Port {port_id} requires a FixedIP in order to be used.")
    return port


def _check_fixed_ip(network: Network, address: str) -> str:
    try:
        address = ipaddress.ip_address(address)
    except ValueError:
        raise InvalidNetworkRequest(f"Invalid fixed IP address ({address})") from None
    subnets = Subnet.select().where(Subnet.network == network)
    if not any(address in ipaddress.ip_network(s.cidr) for s in subnets):
        raise InvalidNetworkRequest(f"Fixed IP address {address} is not in any subnet of "
                                    f"network {network.id}.")
    used = IPAllocation.select().where(IPAllocation.network == network,
                                       IPAllocation.ip_address == address.compressed).first()
    if used is not None:
        raise InvalidNetworkRequest(f"Fixed IP address {address} is already in use on "
                                    f"instance {used.port.device_id or used.port_id}.")
    return address.compressed


def _security_group_ids(project_id: str, names: list[str]) -> list[str]:
    """The project's groups by name (or id); "default" is made if it is missing."""
    found = []
    for name in dict.fromkeys(names or ["default"]):
        if name == security.DEFAULT_NAME:
            group = security.ensure_default_group(project_id)
        else:
            group = SecurityGroup.get_or_none(SecurityGroup.project_id == project_id,
                                              SecurityGroup.id == name) or \
                SecurityGroup.get_or_none(SecurityGroup.project_id == project_id,
                                          SecurityGroup.name == name)
        if group is None:
            raise InvalidNetworkRequest(f"Security group {name} not found.")
        found.append(group.id)
    return found


def validate_networks(context: dict, project_id: str, requested_networks: list[dict],
                      security_groups: list[str] = ()) -> list[dict]:
    """A server create's networks checked before it is recorded; [] (auto) resolves to
    [{"uuid": the one usable network}] or [] when the project has none."""
    admin = _is_admin(context)
    _security_group_ids(project_id, list(security_groups))
    if not requested_networks:
        network = _auto_network(project_id, admin)
        return [{"uuid": network.id}] if network else []
    seen_ports = set()
    for request in requested_networks:
        if request.get("port"):
            if request["port"] in seen_ports:
                raise InvalidNetworkRequest(f"Port {request['port']} is requested twice.")
            seen_ports.add(request["port"])
            _free_port(request["port"], None, project_id, admin)
            continue
        network = _network(request["uuid"], project_id, admin)
        if request.get("fixed_ip"):
            _check_fixed_ip(network, request["fixed_ip"])
    return list(requested_networks)


# ---- ports ------------------------------------------------------------------------------------

def _bind(port: Port, instance_id: str, host: str, availability_zone: str) -> None:
    """Take over a user's port; only a port that is still free (or already ours) is taken."""
    now = db.utcnow()
    with db.transaction():
        taken = Port.update(device_id=instance_id,
                            device_owner=f"{GUEST_OWNER_PREFIX}{availability_zone}",
                            binding_host_id=host, binding_vif_type="bridge",
                            binding_vif_details=dict(ports.BRIDGE_VIF_DETAILS),
                            revision_number=Port.revision_number + 1, updated_at=now) \
            .where(Port.id == port.id,
                   (Port.device_id == "") | (Port.device_id == instance_id)).execute()
    if not taken:
        raise NetworkRequestConflict(f"Port {port.id} is still in use.")


def _unbind(port: Port) -> None:
    with db.transaction():
        Port.update(device_id="", device_owner="", binding_host_id="",
                    binding_vif_type="unbound", binding_vif_details={}, status="DOWN",
                    revision_number=Port.revision_number + 1, updated_at=db.utcnow()) \
            .where(Port.id == port.id).execute()


def _made_by_compute(port: Port) -> bool:
    return bool((port.binding_profile or {}).get(DELETE_WITH_INSTANCE))


def _create(config, network: Network, project_id: str, instance_id: str, host: str,
            availability_zone: str, fixed_ip: str | None, group_ids: list[str]) -> Port:
    if network.port_security_enabled:
        port_security, groups = None, group_ids
    else:  # Nova boots on such networks with the default group dropped
        port_security, groups = False, []
    try:
        with db.transaction():
            quotas.check(config, project_id, "port")
            return ports.create_port(
                network, project_id,
                fixed_ips=[{"ip_address": fixed_ip}] if fixed_ip else None,
                device_id=instance_id, device_owner=f"{GUEST_OWNER_PREFIX}{availability_zone}",
                security_group_ids=groups, port_security_enabled=port_security,
                binding_host_id=host, binding_profile={DELETE_WITH_INSTANCE: True})
    except ApiError as exc:
        raise _refusal(exc) from None


def _refusal(exc: ApiError) -> Exception:
    """A Neutron refusal (exhausted pool, address taken, quota) in compute's terms."""
    if exc.code == 409:
        return NetworkRequestConflict(exc.message)
    if exc.code == 404:
        return NetworkRequestNotFound(exc.message)
    return InvalidNetworkRequest(exc.message)


def allocate_for_instance(config, context: dict, instance_id: str, project_id: str, host: str,
                          requested_networks: list[dict], security_groups: list[str],
                          availability_zone: str) -> list[dict]:
    """Create (or take over) and bind the instance's ports; returns their VIFs. A failure
    leaves nothing behind: ports made are deleted, ports taken over are freed."""
    admin = _is_admin(context)
    requests = list(requested_networks or [])
    if not requests:
        network = _auto_network(project_id, admin)
        if network is None:
            raise InvalidNetworkRequest(f"Unable to automatically allocate a network for "
                                        f"project {project_id}")
        requests = [{"uuid": network.id}]
    group_ids = None
    made, bound = [], []
    try:
        for request in requests:
            if request.get("port"):
                port = _free_port(request["port"], instance_id, project_id, admin)
                _bind(port, instance_id, host, availability_zone)
                bound.append(port)
                continue
            network = _network(request["uuid"], project_id, admin)
            if group_ids is None:
                group_ids = _security_group_ids(project_id, security_groups)
            made.append(_create(config, network, project_id, instance_id, host,
                                availability_zone, request.get("fixed_ip"), group_ids))
    except Exception:
        for port in made:
            _delete(port)
        for port in bound:
            _unbind(port)
        raise
    _sync(config)
    chosen = {p.id for p in made + bound}
    order = [p.id for p in made + bound]
    vifs = [vif for vif in network_info(instance_id) if vif["port_id"] in chosen]
    return sorted(vifs, key=lambda vif: order.index(vif["port_id"]))


def _delete(port: Port) -> None:
    try:
        ports.delete_port(port)
    except peewee.DoesNotExist:
        pass  # deleted meanwhile


def deallocate_for_instance(config, instance_id: str, port_ids: list[str] | None = None) -> None:
    """Delete the ports compute made and unbind the ones the user passed in (all of the
    instance's, or just port_ids). Ports already gone are fine."""
    query = Port.select().where(Port.device_id == instance_id,
                                Port.device_owner.startswith(GUEST_OWNER_PREFIX))
    if port_ids is not None:
        query = query.where(Port.id.in_(list(port_ids)))
    found = list(query)
    for port in found:
        if _made_by_compute(port):
            LOG.info("deleting port %s of instance %s", port.id, instance_id)
            _delete(port)
        else:
            LOG.info("unbinding port %s from instance %s", port.id, instance_id)
            _unbind(port)
    if found:
        _sync(config)


def _agents(config) -> AgentAPI:
    if id(config) not in _AGENTS:
        _AGENTS[id(config)] = AgentAPI(config)
    return _AGENTS[id(config)]


def _sync(config) -> None:
    try:
        _agents(config).sync()
    except Exception:  # the bus is down: the agents reconcile anyway
        LOG.warning("could not tell the agents about instance ports; they will reconcile",
                    exc_info=True)


# ---- what an instance has -------------------------------------------------------------------

def _bridge(network: Network, host: str) -> str:
    if network.network_type == "flat":
        mappings = agents.host_configurations(host).get("physical_mappings") or {} \
            if host else {}
        return mappings.get(network.physical_network) or devices.bridge(network.id)
    return devices.bridge(network.id)


def network_info(instance_id: str) -> list[dict]:
    """The instance's VIFs (format: undercloud/network/rpcapi.py), oldest port first."""
    found = list(Port.select().where(Port.device_id == instance_id,
                                     Port.device_owner.startswith(GUEST_OWNER_PREFIX))
                 .order_by(Port.created_at, Port.id))
    if not found:
        return []
    port_ids = [p.id for p in found]
    networks = {n.id: n for n in Network.select().where(
        Network.id.in_({p.network_id for p in found}))}
    allocations = list(IPAllocation.select().where(IPAllocation.port.in_(port_ids)))
    subnets = {s.id: s for s in Subnet.select().where(
        Subnet.id.in_({a.subnet_id for a in allocations}))}
    floating = {}
    for fip in FloatingIP.select().where(FloatingIP.port_id.in_(port_ids)):
        floating.setdefault((fip.port_id, fip.fixed_ip_address), []).append(
            fip.floating_ip_address)
    vifs = []
    for port in found:
        network = networks[port.network_id]
        fixed_ips = []
        for allocation in sorted((a for a in allocations if a.port_id == port.id),
                                 key=lambda a: (":" in a.ip_address, a.ip_address)):
            subnet = subnets[allocation.subnet_id]
            fixed_ips.append({
                "ip_address": allocation.ip_address, "version": subnet.ip_version,
                "subnet_id": subnet.id, "cidr": subnet.cidr, "gateway_ip": subnet.gateway_ip,
                "dns_nameservers": list(subnet.dns_nameservers or []),
                "host_routes": list(subnet.host_routes or []),
                "ipv6_address_mode": subnet.ipv6_address_mode,
                "enable_dhcp": subnet.enable_dhcp,
                "floating_ips": sorted(floating.get((port.id, allocation.ip_address), []))})
        vifs.append({
            "port_id": port.id, "network_id": network.id, "network_name": network.name,
            "mac_address": port.mac_address, "bridge": _bridge(network, port.binding_host_id),
            "tap": devices.tap(port.id), "mtu": network.mtu, "vif_type": "bridge",
            "preexisting": not _made_by_compute(port), "status": port.status,
            "fixed_ips": fixed_ips})
    return vifs


def instance_for_address(ip_address: str, router_id: str | None = None,
                         network_id: str | None = None) -> dict | None:
    """{"instance_id", "project_id"} of the guest with ip_address on network_id, or on a
    network router_id has an interface on (the metadata proxy's question), else None."""
    try:
        address = ipaddress.ip_address(ip_address).compressed
    except ValueError:
        return None
    query = (IPAllocation.select(IPAllocation, Port).join(Port)
             .where(IPAllocation.ip_address == address,
                    Port.device_owner.startswith(GUEST_OWNER_PREFIX), Port.device_id != ""))
    if network_id:
        query = query.where(IPAllocation.network == network_id)
    elif router_id:
        served = Port.select(Port.network).where(Port.device_id == router_id,
                                                 Port.device_owner.in_(ROUTER_INTERFACE_OWNERS))
        query = query.where(IPAllocation.network.in_(served))
    else:
        return None
    found = query.first()
    if found is None:
        return None
    return {"instance_id": found.port.device_id, "project_id": found.port.project_id}
