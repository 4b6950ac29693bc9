"""Routers as Neutron's L3 plugin keeps them: gateways, interfaces and static routes.

A router's gateway and interfaces are ports with device_id = the router and device_owner
network:router_gateway / network:router_interface, so one IPAM hands out their addresses.
The gateway port belongs to no project (""), as in Neutron. Each function checks what
Neutron checks and raises its errors; routes call notify.changed() after they return.
"""
import ipaddress

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, NotFound
from undercloud.network import agents, faults, ipam, ports
from undercloud.network.models import (FloatingIP, IPAllocation, Network, Port, Router,
                                       Subnet, Tag)

ROUTER_GATEWAY = "network:router_gateway"
ROUTER_INTERFACE = "network:router_interface"
INTERFACE_OWNERS = ipam.ROUTER_INTERFACE_OWNERS
# Neutron's max_routes default.
MAX_ROUTES = 30


def _bad(message: str) -> BadRequest:
    return faults.bad_request("router", message)


def schedule(config) -> None:
    """Put new routers on a live L3 agent now (the network server also does it later)."""
    agents.place_routers(config["network"]["agent_down_time"])


def router_ports(router_id: str, owners=None) -> list[Port]:
    query = Port.select().where(Port.device_id == router_id)
    if owners:
        query = query.where(Port.device_owner.in_(list(owners)))
    return list(query.order_by(Port.created_at, Port.id))


def interface_ports(router_id: str) -> list[Port]:
    return router_ports(router_id, INTERFACE_OWNERS)


def _subnets_of_ports(port_list) -> list[Subnet]:
    ids = [port.id for port in port_list]
    if not ids:
        return []
    return list(Subnet.select().join(IPAllocation, on=(IPAllocation.subnet == Subnet.id))
                .where(IPAllocation.port.in_(ids)).distinct())


# ---- gateway ---------------------------------------------------------------------------------

def external_network(network_id) -> Network:
    """The network a gateway or floating IP goes on: 404 when missing, 400 when internal."""
    network = Network.get_or_none(Network.id == str(network_id))
    if network is None:
        raise faults.not_found("Network", network_id)
    if not network.external:
        raise _bad(f"Network {network.id} is not an external network")
    return network


def gateway_info(router: Router) -> dict | None:
    """external_gateway_info as Neutron shows it."""
    if not router.gw_port_id:
        return None
    port = Port.get_or_none(Port.id == router.gw_port_id)
    if port is None:
        return None
    return {"network_id": port.network_id, "enable_snat": router.enable_snat,
            "external_fixed_ips": ports.port_fixed_ips(port)}


def _floating_ips_need_gateway(router: Router, network_id: str):
    if FloatingIP.select().where(FloatingIP.router_id == router.id).exists():
        raise Conflict(f"Gateway cannot be updated for router {router.id}, since a gateway to "
                       f"external network {network_id} is required by one or more floating "
                       "IPs.", type="RouterExternalGatewayInUseByFloatingIp")


def clear_gateway(router: Router) -> None:
    if not router.gw_port_id:
        return
    with db.transaction():
        port = Port.get_or_none(Port.id == router.gw_port_id)
        if port is not None:
            _floating_ips_need_gateway(router, port.network_id)
            ports.delete_port(port)
        Router.update(gw_port_id=None).where(Router.id == router.id).execute()
    router.gw_port_id = None


def set_gateway(router: Router, info: dict) -> None:
    """Set, change or (info empty) clear the router's gateway; info was checked by the route."""
    if not info:
        clear_gateway(router)
        return
    network = external_network(info.get("network_id"))
    fixed_ips = info.get("external_fixed_ips")
    with db.transaction():
        current = Port.get_or_none(Port.id == router.gw_port_id) if router.gw_port_id else None
        if current is not None and current.network_id != network.id:
            clear_gateway(router)
            current = None
        if current is None:
            subnets = ipam.subnets_of(network.id)
            if not subnets:
                raise _bad(f"No IPs available for external network {network.id}")
            _check_overlaps(router, subnets)
            current = ports.create_port(network, "", fixed_ips=fixed_ips, device_id=router.id,
                                        device_owner=ROUTER_GATEWAY,
                                        binding_host_id=router.host or "")
        elif fixed_ips is not None:
            ports.update_fixed_ips(current, fixed_ips)
        router.gw_port_id = current.id
        router.enable_snat = info.get("enable_snat", True)
        Router.update(gw_port_id=router.gw_port_id, enable_snat=router.enable_snat).where(
            Router.id == router.id).execute()


# ---- interfaces ------------------------------------------------------------------------------

def _check_overlaps(router: Router, new_subnets: list[Subnet]) -> None:
    """Neutron's _check_for_dup_router_subnets: one port per subnet, no overlapping cidrs."""
    attached = _subnets_of_ports(router_ports(router.id))
    for new in new_subnets:
        new_network = ipaddress.ip_network(new.cidr)
        for subnet in attached:
            if subnet.id == new.id:
                raise _bad(f"Router already has a port on subnet {new.id}")
            network = ipaddress.ip_network(subnet.cidr)
            if network.version == new_network.version and network.overlaps(new_network):
                raise _bad(f"Cidr {new.cidr} of subnet {new.id} overlaps with cidr "
                           f"{subnet.cidr} of subnet {subnet.id}")


def _interface(router: Router, port: Port, subnet_ids: list[str]) -> dict:
    return {"id": router.id, "tenant_id": router.project_id, "project_id": router.project_id,
            "port_id": port.id, "network_id": port.network_id,
            "subnet_id": subnet_ids[0] if subnet_ids else None, "subnet_ids": subnet_ids}


def _ipv6_port_on(router: Router, network_id: str) -> Port | None:
    """The router's interface holding IPv6 subnets of the network: Neutron adds more
    IPv6 subnets of one network to one port."""
    for port in interface_ports(router.id):
        if port.network_id == network_id and any(
                ":" in ip["ip_address"] for ip in ports.port_fixed_ips(port)):
            return port
    return None


def add_interface_by_subnet(router: Router, subnet: Subnet) -> dict:
    if not subnet.gateway_ip:
        raise _bad("Subnet for router interface must have a gateway IP")
    gateway = {"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}
    with db.transaction():
        _check_overlaps(router, [subnet])
        port = _ipv6_port_on(router, subnet.network_id) if subnet.ip_version == 6 else None
        if port is not None:
            ports.update_fixed_ips(port, [*ports.port_fixed_ips(port), gateway])
        else:
            port = ports.create_port(subnet.network, router.project_id, fixed_ips=[gateway],
                                     device_id=router.id, device_owner=ROUTER_INTERFACE,
                                     binding_host_id=router.host or "")
    return _interface(router, port, [subnet.id])


def add_interface_by_port(router: Router, port: Port) -> dict:
    if port.device_id:
        raise Conflict(f"Unable to complete operation on port {port.id} for network "
                       f"{port.network_id}. Port already has an attached device "
                       f"{port.device_id}.", type="PortInUse")
    fixed_ips = ports.port_fixed_ips(port)
    if not fixed_ips:
        raise _bad("Router port must have at least one fixed IP")
    subnets = _subnets_of_ports([port])
    if sum(1 for subnet in subnets if subnet.ip_version == 4) > 1:
        raise _bad("Cannot have multiple IPv4 subnets on router port")
    with db.transaction():
        _check_overlaps(router, subnets)
        port = ports.update_port(port, device_id=router.id, device_owner=ROUTER_INTERFACE,
                                 binding_host_id=router.host or "")
    return _interface(router, port, [ip["subnet_id"] for ip in fixed_ips])


def _in_subnet(address: str | None, subnet: Subnet) -> bool:
    return bool(address) and ipaddress.ip_address(address) in ipaddress.ip_network(subnet.cidr)


def _check_not_in_use(router: Router, subnet: Subnet) -> None:
    """Neutron's _confirm_router_interface_not_in_use: routes and floating IPs need it."""
    if any(_in_subnet(route["nexthop"], subnet) for route in router.routes or []):
        raise Conflict(f"Router interface for subnet {subnet.id} on router {router.id} cannot "
                       "be deleted, as it is required by one or more routes.",
                       type="RouterInterfaceInUseByRoute")
    for fip in FloatingIP.select().where(FloatingIP.router_id == router.id):
        if _in_subnet(fip.fixed_ip_address, subnet):
            raise Conflict(f"Router interface for subnet {subnet.id} on router {router.id} "
                           "cannot be deleted, as it is required by one or more floating IPs.",
                           type="RouterInterfaceInUseByFloatingIP")


def remove_interface_by_port(router: Router, port_id: str, subnet_id: str | None) -> dict:
    port = Port.get_or_none(Port.id == port_id, Port.device_id == router.id,
                            Port.device_owner.in_(INTERFACE_OWNERS))
    if port is None:
        raise NotFound(f"Router {router.id} does not have an interface with id {port_id}",
                       type="RouterInterfaceNotFound")
    subnets = _subnets_of_ports([port])
    if subnet_id and subnet_id not in [subnet.id for subnet in subnets]:
        raise BadRequest(f"Subnet {subnet_id} does not match the subnets of port {port_id}.",
                         type="SubnetMismatchForPort")
    with db.transaction():
        for subnet in subnets:
            _check_not_in_use(router, subnet)
        ports.delete_port(port)
    return _interface(router, port, [subnet.id for subnet in subnets])


def remove_interface_by_subnet(router: Router, subnet: Subnet) -> dict:
    holders = [port for port in interface_ports(router.id)
               if any(ip["subnet_id"] == subnet.id for ip in ports.port_fixed_ips(port))]
    if not holders:
        raise NotFound(f"Router {router.id} has no interface on subnet {subnet.id}",
                       type="RouterInterfaceNotFoundForSubnet")
    port = holders[0]
    with db.transaction():
        _check_not_in_use(router, subnet)
        others = [ip for ip in ports.port_fixed_ips(port) if ip["subnet_id"] != subnet.id]
        if others:
            ports.update_fixed_ips(port, others)
        else:
            ports.delete_port(port)
    return _interface(router, port, [subnet.id])


# ---- static routes ---------------------------------------------------------------------------

def _route(route) -> dict:
    if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
        raise faults.invalid_input(f"Invalid route {route}: it needs exactly a 'destination' "
                                   "and a 'nexthop'")
    destination, nexthop = route["destination"], route["nexthop"]
    try:
        if "/" not in str(destination):
            raise ValueError
        ipaddress.ip_network(destination, strict=False)
    except (TypeError, ValueError):
        raise faults.invalid_input(f"'{destination}' is not a valid IP subnet") from None
    try:
        ipaddress.ip_address(nexthop)
    except (TypeError, ValueError):
        raise faults.invalid_input(f"'{nexthop}' is not a valid IP address") from None
    return {"destination": destination, "nexthop": nexthop}


def check_routes(router: Router, routes) -> list[dict]:
    """The routes to store: each nexthop on a subnet the router is on, not one of its own
    addresses (Neutron's extraroute checks)."""
    if routes is None:
        return []
    if not isinstance(routes, list):
        raise faults.invalid_input(f"Invalid routes {routes}: a list is expected")
    checked = [_route(route) for route in routes]
    unique = {(r["destination"], r["nexthop"]) for r in checked}
    if len(unique) != len(checked):
        raise faults.invalid_input("Duplicate routes in the request")
    if len(checked) > MAX_ROUTES:
        raise BadRequest(f"Unable to complete operation for {router.id}. The number of routes "
                         f"exceeds the maximum {MAX_ROUTES}.", type="RoutesExhausted")
    own = ports.fixed_ips_of([port.id for port in router_ports(router.id)])
    addresses = {ipaddress.ip_address(ip["ip_address"]) for ips in own.values() for ip in ips}
    subnet_ids = {ip["subnet_id"] for ips in own.values() for ip in ips}
    cidrs = [ipaddress.ip_network(subnet.cidr) for subnet in
             Subnet.select().where(Subnet.id.in_(list(subnet_ids)))] if subnet_ids else []
    for route in checked:
        nexthop = ipaddress.ip_address(route["nexthop"])
        reason = None
        if not any(nexthop in cidr for cidr in cidrs):
            reason = "the nexthop is not connected with router"
        elif nexthop in addresses:
            reason = "the nexthop is used by router"
        if reason:
            raise BadRequest(f"Invalid format for routes: {routes}, {reason}.",
                             type="InvalidRoutes")
    return checked


# ---- the router itself -----------------------------------------------------------------------

def delete_router(router: Router) -> None:
    """409 RouterInUse while it has interfaces; its gateway goes with it."""
    with db.transaction():
        if interface_ports(router.id):
            raise Conflict(f"Router {router.id} still has ports", type="RouterInUse")
        clear_gateway(router)
        Tag.delete().where(Tag.resource_type == "routers", Tag.resource_id == router.id).execute()
        Router.delete().where(Router.id == router.id).execute()
