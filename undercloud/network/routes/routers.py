"""/v2.0/routers: create, list, show, update, delete, and add/remove_router_interface.

The work (gateway ports, interfaces, routes) is in l3.py; here the request is parsed and the
caller's rights checked. Routers are not distributed or HA here (only admins see those two
attributes, as in Neutron).
"""
from flask import Blueprint

from undercloud import db
from undercloud.common.errors import BadRequest
from undercloud.common.validation import json_body
from undercloud.network import (attributes, faults, l3, listing, notify, policy, quotas,
                                views)
from undercloud.network.attributes import Attribute, anything, boolean, list_of, string
from undercloud.network.models import Agent, Router, Tag
from undercloud.network.routes import availability_zones, config

blueprint = Blueprint("routers", __name__)

ROUTER = {
    "name": Attribute(check=string()),
    "description": Attribute(check=string()),
    "admin_state_up": Attribute(check=boolean),
    "external_gateway_info": Attribute(check=anything),
    "routes": Attribute(post=False, check=anything),
    "availability_zone_hints": Attribute(put=False, check=list_of(string(), unique=True)),
    "distributed": Attribute(check=boolean),
    "ha": Attribute(check=boolean),
    "tags": Attribute(put=False, check=list_of(string(), unique=True)),
}
GATEWAY_KEYS = {"network_id", "enable_snat", "external_fixed_ips"}
KIND = "routers"


def _zones(routers) -> dict[str, list[str]]:
    hosts = {router.host for router in routers if router.host}
    zones = {}
    if hosts:
        for agent in Agent.select().where(Agent.host.in_(list(hosts)),
                                          Agent.agent_type == "L3 agent"):
            zones[agent.host] = [agent.availability_zone or availability_zones.DEFAULT_ZONE]
    return {router.id: zones.get(router.host, []) for router in routers}


def render(routers: list) -> list[dict]:
    ids = [router.id for router in routers]
    tags, zones = views.tags_by_id(KIND, ids), _zones(routers)
    admin = policy.is_admin()
    documents = []
    for router in routers:
        document = {**views.standard(router, tags[router.id]),
                    "admin_state_up": router.admin_state_up, "status": router.status,
                    "external_gateway_info": l3.gateway_info(router),
                    "routes": list(router.routes or []),
                    "availability_zone_hints": list(router.availability_zone_hints or []),
                    "availability_zones": zones[router.id]}
        if admin:
            document.update({"distributed": False, "ha": False})
        documents.append(document)
    return documents


ROUTERS = listing.Collection(Router, KIND, filters={
    **listing.standard_filters(Router),
    "admin_state_up": listing.boolean(Router.admin_state_up),
    "status": listing.exact(Router.status),
}, sort_keys={**listing.standard_sort_keys(Router), "admin_state_up": Router.admin_state_up,
              "status": Router.status})


def find(router_id: str) -> Router:
    router = Router.get_or_none(Router.id == router_id)
    if router is None or not (policy.is_admin()
                              or router.project_id == policy.context().project_id):
        raise faults.not_found("Router", router_id)
    return router


def _gateway_request(action: str, info, target: dict) -> dict:
    """The external_gateway_info asked for ({} clears the gateway), with its admin-only parts
    checked."""
    if info is None:
        return {}
    if not isinstance(info, dict) or set(info) - GATEWAY_KEYS:
        raise faults.invalid_input(f"Invalid external_gateway_info {info}: it may hold "
                                   f"{sorted(GATEWAY_KEYS)}")
    if info and "network_id" not in info:
        raise faults.invalid_input("external_gateway_info needs a network_id")
    policy.enforce_attributes(f"{action}:external_gateway_info", info, target,
                              ("enable_snat", "external_fixed_ips"))
    if "enable_snat" in info:
        try:
            info["enable_snat"] = attributes.boolean(info["enable_snat"])
        except ValueError as exc:
            raise faults.invalid_input(str(exc)) from None
    return info


def _refuse_dvr_and_ha(values: dict):
    for name in ("distributed", "ha"):
        if values.get(name):
            if not policy.is_admin():
                raise faults.policy_not_authorized(f"create_router:{name}")
            raise BadRequest(f"Routers here are neither distributed nor HA: {name} must be "
                             "false.", type="BadRequest")


@blueprint.post("/v2.0/routers")
def create_router():
    values = attributes.parse("router", ROUTER, attributes.body("router"), creating=True)
    project_id = policy.project_for_create(values)
    target = {"project_id": project_id, "network_project_id": project_id}
    policy.enforce("create_router", target)
    _refuse_dvr_and_ha(values)
    gateway = _gateway_request("create_router", values.get("external_gateway_info"), target)
    with db.transaction():
        quotas.check(config(), project_id, "router")
        router = Router.create(project_id=project_id, name=values.get("name", ""),
                               description=values.get("description", ""),
                               admin_state_up=values.get("admin_state_up", True),
                               availability_zone_hints=values.get("availability_zone_hints",
                                                                  []))
        for tag in values.get("tags", []):
            Tag.create(resource_type=KIND, resource_id=router.id, tag=tag)
        l3.set_gateway(router, gateway)
    l3.schedule(config())
    notify.changed()
    return views.show("router", render([Router.get_by_id(router.id)])[0], 201)


@blueprint.get("/v2.0/routers")
def list_routers():
    query = listing.where(Router.select(), policy.owned(Router))
    return listing.respond(ROUTERS, query, render)


@blueprint.get("/v2.0/routers/<router_id>")
def show_router(router_id):
    return views.show("router", render([find(router_id)])[0])


@blueprint.put("/v2.0/routers/<router_id>")
def update_router(router_id):
    router = find(router_id)
    values = attributes.parse("router", ROUTER, attributes.body("router"), creating=False)
    target = policy.target(router)
    policy.enforce("update_router", target)
    _refuse_dvr_and_ha(values)
    with db.transaction():
        router = Router.get_by_id(router.id)
        if "external_gateway_info" in values:
            l3.set_gateway(router, _gateway_request(
                "update_router", values["external_gateway_info"], target))
        if "routes" in values:
            router.routes = l3.check_routes(router, values["routes"])
        for name in ("name", "description", "admin_state_up"):
            if name in values:
                setattr(router, name, values[name])
        router.revision_number += 1
        router.save()
    notify.changed()
    return views.show("router", render([Router.get_by_id(router.id)])[0])


@blueprint.delete("/v2.0/routers/<router_id>")
def delete_router(router_id):
    router = find(router_id)
    policy.enforce("delete_router", policy.target(router))
    l3.delete_router(router)
    notify.changed()
    return views.no_content()


def _interface_request(router: Router, action: str) -> tuple:
    body = json_body()
    if not isinstance(body, dict):
        raise faults.bad_request("router", "Body contains invalid data")
    unknown = set(body) - {"subnet_id", "port_id"}
    if unknown:
        raise faults.bad_request("router", f"Unrecognized attribute(s) "
                                           f"'{', '.join(sorted(unknown))}'")
    policy.enforce(action, policy.target(router))
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    if not subnet_id and not port_id:
        raise faults.bad_request("router", "Either subnet_id or port_id must be specified")
    return subnet_id, port_id


@blueprint.put("/v2.0/routers/<router_id>/add_router_interface")
def add_router_interface(router_id):
    router = find(router_id)
    subnet_id, port_id = _interface_request(router, "add_router_interface")
    if subnet_id and port_id:
        raise faults.bad_request("router", "Cannot specify both subnet-id and port-id")
    if port_id:
        interface = l3.add_interface_by_port(router, policy.find_port(port_id))
    else:
        interface = l3.add_interface_by_subnet(router, policy.find_subnet(subnet_id))
    notify.changed()
    return views.respond(interface)


@blueprint.put("/v2.0/routers/<router_id>/remove_router_interface")
def remove_router_interface(router_id):
    router = find(router_id)
    subnet_id, port_id = _interface_request(router, "remove_router_interface")
    if port_id:
        interface = l3.remove_interface_by_port(router, port_id, subnet_id)
    else:
        interface = l3.remove_interface_by_subnet(router, policy.find_subnet(subnet_id))
    notify.changed()
    return views.respond(interface)
