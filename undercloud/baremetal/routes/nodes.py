"""Nodes: create, show, JSON-patch update and delete, as Ironic (listing is node_listing.py)."""
import peewee
from flask import Blueprint, g

from undercloud import db
from undercloud.baremetal import driverinfo, interfaces, patch, policy, schemas, states, views
from undercloud.baremetal.models import Node, new_uuid
from undercloud.baremetal.routes import node_fields
from undercloud.baremetal.routes.common import (alive_conductors, conductor_by_group, config,
                                                fields_arg, node_for, node_locked, no_content,
                                                respond)
from undercloud.common import validation
from undercloud.common.errors import BadRequest, Conflict, Forbidden, NotAcceptable

blueprint = Blueprint("baremetal_nodes", __name__)

# Everything a node document may show, for ?fields=.
NODE_FIELDS = frozenset({
    "allocation_uuid", "automated_clean", "boot_mode", "chassis_uuid", "clean_step",
    "conductor", "conductor_group", "console_enabled", "created_at", "deploy_step",
    "description", "driver", "driver_info", "driver_internal_info", "extra", "fault",
    "inspection_finished_at", "inspection_started_at", "instance_info", "instance_uuid",
    "last_error", "lessee", "maintenance", "maintenance_reason", "name", "network_data",
    "owner", "parent_node", "power_state", "properties", "protected", "protected_reason",
    "provision_state", "provision_updated_at", "raid_config", "reservation", "resource_class",
    "retired", "retired_reason", "secure_boot", "service_step", "shard", "target_power_state",
    "target_provision_state", "target_raid_config", "traits", "updated_at", "uuid",
    *interfaces.FIELDS})
# What PATCH may change (Ironic's PATCH_ALLOWED_FIELDS up to this cloud's microversion).
PATCHABLE = ("automated_clean", "chassis_uuid", "conductor_group", "description", "driver",
             "driver_info", "extra", "instance_info", "instance_uuid", "lessee", "maintenance",
             "name", "network_data", "owner", "parent_node", "properties", "protected",
             "protected_reason", "resource_class", "retired", "retired_reason", "shard",
             *interfaces.FIELDS)
# Ironic's UPDATE_ALLOWED_STATES: a node moving towards a target only changes in these.
UPDATE_ALLOWED_STATES = (states.DEPLOY_FAILED, states.INSPECTING, states.INSPECT_FAILED,
                         states.INSPECT_WAIT, states.CLEAN_FAILED, states.ERROR,
                         states.VERIFYING)
# Where a node may be deleted outside maintenance (Ironic's, with available allowed).
DELETE_ALLOWED_STATES = (states.MANAGEABLE, states.ENROLL, states.AVAILABLE)


def show_node(node: Node, fields=None) -> dict:
    hosts = conductor_by_group(alive_conductors())
    return views.node(config(), node, fields, hosts.get(node.conductor_group or ""))


def _reject_newer_fields(names):
    for name in names:
        if not views.allowed(name):
            raise NotAcceptable(f"Request not acceptable: field {name} needs a newer API "
                                f"version than {g.api_version}.")


def _unique(values: dict, node_id: str):
    """409s Ironic gives for a name, UUID or instance already taken."""
    others = Node.select().where(Node.id != node_id)
    if values.get("name") and others.where(Node.name == values["name"]).exists():
        raise Conflict(f"A node with name {values['name']} already exists.")
    if values.get("instance_uuid") and others.where(
            Node.instance_uuid == values["instance_uuid"]).exists():
        raise Conflict(f"Instance {values['instance_uuid']} is already associated with a node, "
                       f"it cannot be associated with this other node {node_id}")


@blueprint.post("/v1/nodes")
def create():
    policy.enforce("baremetal:node:create")
    body = validation.json_body()
    schemas.check(body, schemas.NODE)
    _reject_newer_fields(field for field, value in body.items() if value not in (None, ""))
    values = node_fields.columns(config(), body,
                                 "Cannot create node with invalid name '{name}'")
    if values.get("id") and Node.select().where(Node.id == values["id"]).exists():
        raise Conflict(f"A node with UUID {values['id']} already exists.")
    values["id"] = values.get("id") or new_uuid()
    # Before 1.11 new nodes started out available (Ironic's initial state for old clients).
    values["provision_state"] = states.ENROLL if g.api_version.minor >= 11 else states.AVAILABLE
    try:
        with db.transaction():
            _unique(values, values["id"])
            node = Node.create(**values)
    except peewee.IntegrityError:
        raise Conflict("A node with this name, UUID or instance UUID already exists.") from None
    return respond(show_node(node), 201, {"Location": views.links("nodes", node.id)[0]["href"]})


@blueprint.get("/v1/nodes/<ident>")
def show(ident):
    node = node_for("baremetal:node:get", ident)
    fields = fields_arg(NODE_FIELDS, views.NODE_FIELD_VERSIONS)
    return respond(show_node(node, fields))


def _editable(node: Node) -> dict:
    """The patchable fields as a document, driver_info with its secrets, for JSON patch."""
    document = {field: value for field, value in views.node(config(), node).items()
                if field in PATCHABLE}
    document["driver_info"] = driverinfo.full(config(), node)
    return document


def _check_transition(node: Node, operations: list[dict]):
    """Ironic's 409s for a node that is busy: held by the conductor, or between states."""
    if node.reservation:
        raise node_locked(node)
    removes_instance = operations == [{"op": "remove", "path": "/instance_uuid"}]
    if node.maintenance and removes_instance:
        return
    if node.target_provision_state and node.provision_state not in UPDATE_ALLOWED_STATES:
        raise Conflict(f"Node {node.id} can not be updated while a state transition is in "
                       "progress.")
    if node.provision_state == states.INSPECTING and views.minor() >= 39:
        raise Conflict(f"Cannot update node \"{node.id}\" while it is in state "
                       f"\"{states.INSPECTING}\".")


def _consistent(node: Node, changes: dict):
    """The rules Ironic's conductor applies to an update, on the node as it would become."""
    after = {field: changes.get(field, getattr(node, field)) for field in
             ("instance_uuid", "protected", "protected_reason", "retired", "retired_reason",
              "resource_class", "maintenance")}
    if "instance_uuid" in changes and changes["instance_uuid"] and node.instance_uuid \
            and changes["instance_uuid"] != node.instance_uuid:
        raise Conflict(f"Node {node.id} is associated with instance {node.instance_uuid}.")
    if "resource_class" in changes and node.resource_class \
            and changes["resource_class"] != node.resource_class \
            and node.provision_state not in (states.ENROLL, states.INSPECTING,
                                             states.INSPECT_WAIT, states.MANAGEABLE,
                                             states.AVAILABLE):
        raise Conflict(f"Node {node.id} can not have resource_class updated unless it is in "
                       "one of allowed (enroll, inspecting, inspect wait, manageable, "
                       f"available) states. Current state is '{node.provision_state}'.")
    if after["protected"] and "protected" in changes and not node.protected \
            and node.provision_state != states.ACTIVE:
        raise Conflict("Protection can only be set in \"active\" state")
    if after["protected_reason"] and not after["protected"]:
        raise BadRequest("Cannot provide protected_reason without setting protected to True")
    if after["retired_reason"] and not after["retired"]:
        raise BadRequest("Cannot provide retired_reason without setting the node to retired.")
    if after["retired"] and "retired" in changes and not node.retired \
            and node.provision_state == states.AVAILABLE:
        raise Conflict(f"Node {node.id} can not have 'retired' set in provision state "
                       f"'{states.AVAILABLE}'")
    if "protected" in changes and not after["protected"]:
        changes["protected_reason"] = None
    if "retired" in changes and not after["retired"]:
        changes["retired_reason"] = None
    if "maintenance" in changes and not after["maintenance"]:
        changes.update(maintenance_reason=None, fault=None)


def _policy_for(node: Node, ident: str, fields: set[str]):
    for field in fields:
        action = ("baremetal:node:update:interfaces" if field in interfaces.FIELDS
                  else f"baremetal:node:update:{field}")
        if action in policy.RULES:
            policy.enforce(action, node, ident)


@blueprint.patch("/v1/nodes/<ident>")
def update(ident):
    node = node_for("baremetal:node:update", ident)
    operations = patch.parse(validation.json_body())
    patch.check_allowed(operations, PATCHABLE)
    _reject_newer_fields(patch.root_fields(operations))
    _policy_for(node, ident, patch.root_fields(operations))
    _check_transition(node, operations)
    before = _editable(node)
    after = patch.apply(before, operations)
    schemas.check(after, schemas.NODE_PATCHED)
    changed = {field: after.get(field) for field in patch.root_fields(operations)
               if after.get(field) != before.get(field)}
    changes = node_fields.columns(config(), changed,
                                  f"Node {ident}: Cannot change name to invalid name '{{name}}'")
    _consistent(node, changes)
    if changes:
        with db.transaction():
            _unique(changes, node.id)
            changes["updated_at"] = db.utcnow()
            updated = (Node.update(**changes)
                       .where((Node.id == node.id) & Node.reservation.is_null()).execute())
        if not updated:
            raise node_locked(Node.get_by_id(node.id))
    return respond(show_node(Node.get_by_id(node.id)))


@blueprint.delete("/v1/nodes/<ident>")
def delete(ident):
    node = node_for("baremetal:node:delete", ident)
    if node.reservation:
        raise node_locked(node)
    if not node.maintenance and node.instance_uuid:
        raise Conflict(f"Node {node.id} is associated with instance {node.instance_uuid}.")
    if node.protected:
        raise Forbidden(f"Node {node.id} is protected and cannot be undeployed, rebuilt or "
                        "deleted")
    if not node.maintenance and node.provision_state not in DELETE_ALLOWED_STATES:
        raise Conflict(f"Can not delete node \"{node.id}\" while it is in provision state "
                       f"\"{node.provision_state}\". Valid provision states to perform "
                       f"deletion are: \"{', '.join(DELETE_ALLOWED_STATES)}\", or set the node "
                       "into maintenance mode")
    # Its ports and inventory go with it (ON DELETE CASCADE).
    deleted = Node.delete().where((Node.id == node.id) & Node.reservation.is_null()).execute()
    if not deleted:
        raise node_locked(Node.get_by_id(node.id))
    return no_content()

