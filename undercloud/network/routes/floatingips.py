"""/v2.0/floatingips: create, list, show, update (associate, disassociate), delete.

Only admins choose the address (create_floatingip:floating_ip_address). The checks of an
association live in floatingips.py; instances whose addresses change are told after commit.
"""
from flask import Blueprint

from undercloud import db
from undercloud.network import (attributes, faults, floatingips, listing, notify, policy,
                                quotas, views)
from undercloud.network.attributes import (Attribute, ip_address, list_of, string,
                                           uuid_like)
from undercloud.network.models import FloatingIP, Port
from undercloud.network.routes import config

blueprint = Blueprint("floatingips", __name__)

FLOATING_IP = {
    "floating_network_id": Attribute(put=False, required=True, check=uuid_like()),
    "floating_ip_address": Attribute(put=False, check=ip_address(nullable=True)),
    "subnet_id": Attribute(put=False, check=uuid_like(nullable=True)),
    "port_id": Attribute(check=uuid_like(nullable=True)),
    "fixed_ip_address": Attribute(check=ip_address(nullable=True)),
    "description": Attribute(check=string()),
    "tags": Attribute(put=False, check=list_of(string(), unique=True)),
}
KIND = "floatingips"


def _port_details(port_ids) -> dict[str, dict]:
    ids = [port_id for port_id in port_ids if port_id]
    if not ids:
        return {}
    return {port.id: {"name": port.name, "network_id": port.network_id,
                      "mac_address": port.mac_address, "admin_state_up": port.admin_state_up,
                      "status": port.status, "device_id": port.device_id,
                      "device_owner": port.device_owner}
            for port in Port.select().where(Port.id.in_(ids))}


def render(floating_ips: list) -> list[dict]:
    tags = views.tags_by_id(KIND, [fip.id for fip in floating_ips])
    details = _port_details(fip.port_id for fip in floating_ips)
    documents = []
    for fip in floating_ips:
        document = views.standard(fip, tags[fip.id])
        del document["name"]   # floating IPs have no name
        document.update({"floating_ip_address": fip.floating_ip_address,
                         "floating_network_id": fip.floating_network_id,
                         "router_id": fip.router_id, "port_id": fip.port_id,
                         "fixed_ip_address": fip.fixed_ip_address, "status": fip.status,
                         "port_details": details.get(fip.port_id)})
        documents.append(document)
    return documents


FLOATING_IPS = listing.Collection(FloatingIP, KIND, filters={
    "id": listing.exact(FloatingIP.id),
    "description": listing.exact(FloatingIP.description),
    "tenant_id": listing.exact(FloatingIP.project_id),
    "project_id": listing.exact(FloatingIP.project_id),
    "revision_number": listing.exact(FloatingIP.revision_number, listing.to_integer),
    "floating_ip_address": listing.exact(FloatingIP.floating_ip_address),
    "floating_network_id": listing.exact(FloatingIP.floating_network),
    "router_id": listing.nullable(FloatingIP.router_id),
    "port_id": listing.nullable(FloatingIP.port_id),
    "fixed_ip_address": listing.nullable(FloatingIP.fixed_ip_address),
    "status": listing.exact(FloatingIP.status),
}, sort_keys={
    "id": FloatingIP.id, "project_id": FloatingIP.project_id,
    "tenant_id": FloatingIP.project_id, "floating_ip_address": FloatingIP.floating_ip_address,
    "floating_network_id": FloatingIP.floating_network, "router_id": FloatingIP.router_id,
    "port_id": FloatingIP.port_id, "fixed_ip_address": FloatingIP.fixed_ip_address,
    "status": FloatingIP.status, "created_at": FloatingIP.created_at,
    "updated_at": FloatingIP.updated_at,
})


def find(floating_ip_id: str) -> FloatingIP:
    floating_ip = FloatingIP.get_or_none(FloatingIP.id == floating_ip_id)
    if floating_ip is None or not (policy.is_admin()
                                   or floating_ip.project_id == policy.context().project_id):
        raise faults.not_found("Floating IP", floating_ip_id)
    return floating_ip


def _association(network, values: dict, floating_ip=None):
    port_id = values.get("port_id")
    if not port_id:
        return None
    return floatingips.check_association(network, policy.find_port(port_id),
                                         values.get("fixed_ip_address"), floating_ip)


@blueprint.post("/v2.0/floatingips")
def create_floatingip():
    values = attributes.parse("floatingip", FLOATING_IP, attributes.body("floatingip"),
                              creating=True)
    project_id = policy.project_for_create(values)
    target = {"project_id": project_id, "network_project_id": project_id}
    policy.enforce("create_floatingip", target)
    if values.get("floating_ip_address"):
        policy.enforce_attributes("create_floatingip", values, target,
                                  ("floating_ip_address",))
    network = floatingips.floating_network(values["floating_network_id"])
    association = _association(network, values)
    with db.transaction():
        quotas.check(config(), project_id, "floatingip")
        floating_ip = floatingips.create(
            network, project_id, subnet_id=values.get("subnet_id"),
            floating_ip_address=values.get("floating_ip_address"), association=association,
            description=values.get("description", ""), tags=values.get("tags", []))
    notify.changed(instance_ids=floatingips.instance_ids(floating_ip.port_id))
    return views.show("floatingip", render([floating_ip])[0], 201)


@blueprint.get("/v2.0/floatingips")
def list_floatingips():
    query = listing.where(FloatingIP.select(), policy.owned(FloatingIP))
    return listing.respond(FLOATING_IPS, query, render)


@blueprint.get("/v2.0/floatingips/<floating_ip_id>")
def show_floatingip(floating_ip_id):
    return views.show("floatingip", render([find(floating_ip_id)])[0])


@blueprint.put("/v2.0/floatingips/<floating_ip_id>")
def update_floatingip(floating_ip_id):
    floating_ip = find(floating_ip_id)
    values = attributes.parse("floatingip", FLOATING_IP, attributes.body("floatingip"),
                              creating=False)
    policy.enforce("update_floatingip", policy.target(floating_ip))
    before = floating_ip.port_id
    if "fixed_ip_address" in values and "port_id" not in values:
        values["port_id"] = floating_ip.port_id   # another address of the same port
    with db.transaction():
        floating_ip = FloatingIP.get_by_id(floating_ip.id)
        if "port_id" in values:
            floatingips.associate(floating_ip, _association(floating_ip.floating_network,
                                                            values, floating_ip))
        if "description" in values:
            floating_ip.description = values["description"]
        floating_ip.revision_number += 1
        floating_ip.save()
    notify.changed(instance_ids=floatingips.instance_ids(before, floating_ip.port_id))
    return views.show("floatingip", render([floating_ip])[0])


@blueprint.delete("/v2.0/floatingips/<floating_ip_id>")
def delete_floatingip(floating_ip_id):
    floating_ip = find(floating_ip_id)
    policy.enforce("delete_floatingip", policy.target(floating_ip))
    floatingips.delete(floating_ip)
    notify.changed(instance_ids=floatingips.instance_ids(floating_ip.port_id))
    return views.no_content()
