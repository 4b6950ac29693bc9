"""Ports: a node's NICs by MAC address (what PXE and inspection match on), as Ironic."""
import re

import peewee
from flask import Blueprint, request

from undercloud import db
from undercloud.baremetal import patch, policy, schemas, states, views
from undercloud.baremetal.models import Node, Port
from undercloud.baremetal.routes import node_fields
from undercloud.baremetal.routes.common import (as_uuid, bool_arg, fields_arg, find_node,
                                                limit_arg, next_href, node_for, node_locked,
                                                no_content, require, respond, sort_args,
                                                to_bool)
from undercloud.common import paging, validation
from undercloud.common.errors import BadRequest, Conflict, NotAcceptable, NotFound

blueprint = Blueprint("baremetal_ports", __name__)

PORT_FIELDS = frozenset({"uuid", "address", "created_at", "updated_at", "extra",
                         "internal_info", "is_smartnic", "local_link_connection",
                         "physical_network", "pxe_enabled", "node_uuid", "name",
                         "portgroup_uuid"})
PATCHABLE = ("address", "extra", "is_smartnic", "local_link_connection", "node_uuid",
             "physical_network", "portgroup_uuid", "pxe_enabled", "name")
UNSORTABLE = ("extra", "internal_info", "local_link_connection")
_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$", re.I)
LOCAL_LINK_KEYS = ("switch_id", "port_id", "switch_info", "network_type")


def normalized_mac(address) -> str:
    """aa:bb:cc:dd:ee:ff in lower case, or Ironic's 400 InvalidMAC."""
    if not isinstance(address, str) or not _MAC.match(address.strip()):
        raise BadRequest(f"Expected a MAC address but received {address}.")
    return address.strip().lower().replace("-", ":")


def _check_local_link(connection: dict):
    unknown = sorted(set(connection) - set(LOCAL_LINK_KEYS))
    if unknown:
        raise BadRequest(f"Invalid local_link_connection: unknown key(s) {', '.join(unknown)}; "
                         f"use {', '.join(LOCAL_LINK_KEYS)}.")
    if "network_type" in connection:
        require(64)
        if connection["network_type"] not in ("managed", "unmanaged"):
            raise BadRequest("Invalid local_link_connection: network_type is managed or "
                             "unmanaged.")
    if connection and connection.get("network_type") != "unmanaged" \
            and not {"switch_id", "port_id"} <= set(connection):
        raise BadRequest("Invalid local_link_connection: switch_id and port_id are required "
                         "unless network_type is unmanaged.")


def _columns(values: dict) -> dict:
    """Column values for the port fields in `values`; 400 naming the first wrong one."""
    result = {}
    for field, value in values.items():
        if field == "address":
            result["address"] = normalized_mac(value)
        elif field == "name":
            if value is not None and not node_fields.valid_name(value):
                raise BadRequest(f"Expected a logical name but received {value}.")
            result["name"] = value
        elif field == "pxe_enabled":
            result["pxe_enabled"] = True if value is None else to_bool(field, value)
        elif field == "is_smartnic":
            if value is not None and to_bool(field, value):
                raise BadRequest("This cloud does not support Smart NIC ports.")
        elif field == "physical_network":
            if value is not None and not value:
                raise BadRequest("A non-empty value is required when setting "
                                 "physical_network")
            result["physical_network"] = value
        elif field == "portgroup_uuid":
            if value:
                raise BadRequest(f"Portgroup {value} could not be found.")
        elif field == "local_link_connection":
            _check_local_link(value or {})
            result["local_link_connection"] = value or {}
        elif field == "extra":
            result["extra"] = value or {}
        elif field == "uuid":
            if value is not None and as_uuid(value) is None:
                raise BadRequest(f"Expected a UUID but received {value}.")
            if value is not None:
                result["id"] = as_uuid(value)
    return result


def _unique(values: dict, port_id: str):
    others = Port.select().where(Port.id != port_id)
    if "address" in values and others.where(Port.address == values["address"]).exists():
        raise Conflict(f"A port with MAC address {values['address']} already exists.")
    if values.get("name") and others.where(Port.name == values["name"]).exists():
        raise Conflict(f"A port with name {values['name']} already exists.")


def _reject_newer_fields(names):
    for name in names:
        if not views.allowed(name, views.PORT_FIELD_VERSIONS):
            raise NotAcceptable(f"Request not acceptable: field {name} needs a newer API "
                                "version.")


def _node_of_new_port(body: dict) -> Node:
    """The node a port is created on, by node_uuid (or node_ident from 1.94); 400 if absent."""
    if "node_ident" in body:
        require(94)
    ident = body.get("node_ident") or body.get("node_uuid")
    if ident is None:
        raise BadRequest("Invalid input for field/attribute node_uuid: a port needs its node "
                         "(node_uuid, or node_ident from API version 1.94).")
    # Ironic wants a UUID in node_uuid; a node's name is taken too, so that
    # `openstack baremetal port create MAC --node NAME` works as users try it first.
    try:
        return find_node(ident)
    except NotFound:
        raise BadRequest(f"Node {ident} could not be found.") from None


def find_port(ident: str) -> Port:
    port_id = as_uuid(ident)
    if port_id is not None:
        port = Port.get_or_none(Port.id == port_id)
    elif views.minor() >= 88:
        port = Port.get_or_none(Port.name == ident)
    else:
        raise BadRequest(f"Expected a UUID but received {ident}.")
    if port is None or not policy.allowed("baremetal:port:get", port.node):
        raise NotFound(f"Port {ident} could not be found.")
    return port


@blueprint.post("/v1/ports")
def create():
    body = validation.json_body()
    schemas.check(body, schemas.PORT)
    node = _node_of_new_port(body)
    policy.enforce("baremetal:port:create", node)
    _reject_newer_fields(field for field, value in body.items() if value is not None)
    values = _columns({key: value for key, value in body.items()
                       if key not in ("node_uuid", "node_ident")})
    if node.reservation:
        raise node_locked(node)
    if "id" in values and Port.select().where(Port.id == values["id"]).exists():
        raise Conflict(f"A port with UUID {values['id']} already exists.")
    try:
        with db.transaction():
            _unique(values, values.get("id", ""))
            port = Port.create(node=node.id, **values)
    except peewee.IntegrityError as error:
        # A port made by another request between _unique's check and this insert.
        taken = {("address",): f"MAC address {values['address']}",
                 ("id",): f"UUID {values.get('id')}",
                 ("name",): f"name {values.get('name')}"}.get(db.unique_columns(error))
        if taken is None:
            raise
        raise Conflict(f"A port with {taken} already exists.") from None
    return respond(views.port(port), 201, {"Location": views.links("ports", port.id)[0]["href"]})


@blueprint.get("/v1/ports/<ident>")
def show(ident):
    port = find_port(ident)
    fields = fields_arg(PORT_FIELDS, views.PORT_FIELD_VERSIONS)
    return respond(views.port(port, fields))


@blueprint.patch("/v1/ports/<ident>")
def update(ident):
    port = find_port(ident)
    node = port.node
    policy.enforce("baremetal:port:update", node)
    operations = patch.parse(validation.json_body())
    patch.check_allowed(operations, PATCHABLE)
    _reject_newer_fields(patch.root_fields(operations))
    before = {key: value for key, value in views.port(port).items() if key in PATCHABLE}
    after = patch.apply(before, operations)
    schemas.check(after, schemas.PORT)
    changed = {field: after.get(field) for field in patch.root_fields(operations)
               if after.get(field) != before.get(field)}
    new_node = node
    if "node_uuid" in changed:
        ident_of_node = changed.pop("node_uuid")
        if as_uuid(ident_of_node) is None:
            raise BadRequest(f"Expected a UUID but received {ident_of_node}.")
        new_node = Node.get_or_none(Node.id == as_uuid(ident_of_node))
        if new_node is None:
            raise BadRequest(f"Node {ident_of_node} could not be found.")
    changes = _columns(changed)
    if new_node.id != node.id:
        changes["node"] = new_node.id
    if "address" in changes and changes["address"] != port.address and not node.maintenance \
            and (node.provision_state == states.ACTIVE or node.instance_uuid):
        raise Conflict(f"Cannot update hardware address for port {port.id} as node {node.id} "
                       "is active or has instance UUID assigned")
    if node.reservation:
        raise node_locked(node)
    if changes:
        with db.transaction():
            _unique(changes, port.id)
            changes["updated_at"] = db.utcnow()
            Port.update(**changes).where(Port.id == port.id).execute()
    return respond(views.port(Port.get_by_id(port.id)))


@blueprint.delete("/v1/ports/<ident>")
def delete(ident):
    port = find_port(ident)
    policy.enforce("baremetal:port:delete", port.node)
    if port.node.reservation:
        raise node_locked(port.node)
    Port.delete().where(Port.id == port.id).execute()
    return no_content()


def _order():
    key, direction = sort_args()
    if key in UNSORTABLE or key not in PORT_FIELDS | {"id"}:
        raise BadRequest(f"The sort_key value {key} is an invalid field for sorting")
    column = {"id": Port.created_at, "uuid": Port.id, "node_uuid": Port.node}.get(key)
    column = column or getattr(Port, key, None)
    if column is None:
        raise BadRequest(f"The sort_key value {key} is an invalid field for sorting")
    return [(column, direction)]


def list_ports(node: Node | None, detail: bool):
    policy.enforce("baremetal:port:list")
    fields = fields_arg(PORT_FIELDS, views.PORT_FIELD_VERSIONS)
    if detail and fields is not None:
        raise BadRequest("Can not specify ?detail=True and fields in the same request.")
    if not detail and fields is None:
        fields = list(views.DEFAULT_PORT_FIELDS)
    query = Port.select(Port).join(Node)
    if not policy.allowed("baremetal:port:list_all"):
        query = query.where(policy.visible_nodes())
    node_ident = request.args.get("node") or request.args.get("node_uuid")
    if node is None and node_ident:
        try:
            node = find_node(node_ident)
        except NotFound:
            return respond(views.collection("ports", []))
    if node is not None:
        query = query.where(Port.node == node.id)
    if request.args.get("address"):
        query = query.where(Port.address == request.args["address"].lower())
    if request.args.get("portgroup"):
        query = query.where(Port.id.is_null())
    marker = request.args.get("marker")
    if marker is not None and as_uuid(marker) is None:
        raise BadRequest(f"Expected a UUID but received {marker}.")
    limit = limit_arg()
    rows = paging.paginate(query, Port, _order(), limit, as_uuid(marker) if marker else None)
    return respond(views.collection("ports", [views.port(row, fields) for row in rows],
                                    next_href(rows, limit)))


def _detail_arg() -> bool:
    detail = bool_arg("detail")
    if detail is not None:
        require(43)
    return bool(detail)


@blueprint.get("/v1/ports")
def index():
    return list_ports(None, _detail_arg())


@blueprint.get("/v1/ports/detail")
def detail():
    return list_ports(None, True)


@blueprint.get("/v1/nodes/<ident>/ports")
def node_ports(ident):
    return list_ports(node_for("baremetal:node:get", ident), _detail_arg())


@blueprint.get("/v1/nodes/<ident>/ports/detail")
def node_ports_detail(ident):
    return list_ports(node_for("baremetal:node:get", ident), True)
