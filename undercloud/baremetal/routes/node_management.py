"""What an operator does to a node besides moving its states: maintenance, the boot device,
interface validation and the inspection inventory."""
from flask import Blueprint

from undercloud import db
from undercloud.baremetal import interfaces, schemas
from undercloud.baremetal.models import Node, NodeInventory
from undercloud.baremetal.routes.common import (ask_conductor, conductor, endpoint_since,
                                                node_for, node_locked, no_content, respond,
                                                to_bool)
from undercloud.common import validation
from undercloud.common.errors import BadRequest, NotFound

blueprint = Blueprint("baremetal_node_management", __name__)


def _set_maintenance(node: Node, **values):
    if node.reservation:
        raise node_locked(node)
    with db.transaction():
        recorded = (Node.update(**values, updated_at=db.utcnow())
                    .where((Node.id == node.id) & Node.reservation.is_null()).execute())
    if not recorded:
        raise node_locked(Node.get_by_id(node.id))


@blueprint.put("/v1/nodes/<ident>/maintenance")
def set_maintenance(ident):
    node = node_for("baremetal:node:set_maintenance", ident)
    body = validation.json_body(required=False) or {}
    schemas.check(body, schemas.MAINTENANCE)
    _set_maintenance(node, maintenance=True, maintenance_reason=body.get("reason"))
    return no_content(202)


@blueprint.delete("/v1/nodes/<ident>/maintenance")
def clear_maintenance(ident):
    node = node_for("baremetal:node:clear_maintenance", ident)
    _set_maintenance(node, maintenance=False, maintenance_reason=None, fault=None)
    return no_content(202)


@blueprint.get("/v1/nodes/<ident>/management/boot_device")
def boot_device(ident):
    node = node_for("baremetal:node:get_boot_device", ident)
    return respond(ask_conductor(node, lambda: conductor().get_boot_device(node.id)))


@blueprint.put("/v1/nodes/<ident>/management/boot_device")
def set_boot_device(ident):
    node = node_for("baremetal:node:set_boot_device", ident)
    body = validation.json_body()
    schemas.check(body, schemas.BOOT_DEVICE)
    device = body["boot_device"]
    if device not in interfaces.BOOT_DEVICES:
        raise BadRequest(f"Invalid boot device {device} specified, supported boot devices "
                         f"are: {', '.join(interfaces.BOOT_DEVICES)}")
    persistent = to_bool("persistent", body.get("persistent") or False)
    if node.reservation:
        raise node_locked(node)
    ask_conductor(node, lambda: conductor().set_boot_device(node.id, device, persistent))
    return no_content(204)


@blueprint.get("/v1/nodes/<ident>/management/boot_device/supported")
def supported_boot_devices(ident):
    node_for("baremetal:node:get_boot_device", ident)
    return respond({"supported_boot_devices": list(interfaces.BOOT_DEVICES)})


@blueprint.get("/v1/nodes/<ident>/validate")
def validate(ident):
    node = node_for("baremetal:node:validate", ident)
    return respond(ask_conductor(node, lambda: conductor().validate(node.id)))


@blueprint.get("/v1/nodes/<ident>/inventory")
def inventory(ident):
    endpoint_since(81)
    node = node_for("baremetal:node:inventory:get", ident)
    row = NodeInventory.get_or_none(NodeInventory.node == node.id)
    if row is None:
        raise NotFound(f"Node inventory record for node {node.id} could not be found.")
    return respond({"inventory": row.inventory, "plugin_data": row.plugin_data or {}})
