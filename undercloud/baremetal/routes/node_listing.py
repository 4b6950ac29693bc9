"""GET /v1/nodes and /v1/nodes/detail: Ironic's filters, fields, sorting and paging."""

from flask import Blueprint, request

from undercloud.baremetal import policy, states, views
from undercloud.baremetal.models import Node
from undercloud.baremetal.routes.common import (alive_conductors, as_uuid, bool_arg,
                                                conductor_by_group, config, fields_arg,
                                                limit_arg, next_href, require, respond,
                                                sort_args)
from undercloud.baremetal.routes.nodes import NODE_FIELDS
from undercloud.common import paging
from undercloud.common.errors import BadRequest

blueprint = Blueprint("baremetal_node_listing", __name__)

# Every provision state Ironic names, for checking ?provision_state=.
PROVISION_STATES = frozenset({
    states.ENROLL, states.VERIFYING, states.MANAGEABLE, states.INSPECTING,
    states.INSPECT_WAIT, states.INSPECT_FAILED, states.CLEANING, states.CLEAN_WAIT,
    states.CLEAN_FAILED, states.AVAILABLE, states.DEPLOYING, states.DEPLOY_WAIT,
    states.DEPLOY_FAILED, states.ACTIVE, states.DELETING, states.ERROR, "adopting",
    "adopt failed", "rescue", "rescuing", "rescue wait", "rescue failed", "unrescuing",
    "unrescue failed", "servicing", "service wait", "service failed", "service hold"})
# Fields Ironic refuses to sort by (dicts and lists).
UNSORTABLE = ("properties", "driver_info", "extra", "instance_info", "driver_internal_info",
              "clean_step", "deploy_step", "raid_config", "target_raid_config", "traits",
              "network_data", "service_step")
# Filters that name a column, with the microversion that added them.
_COLUMN_FILTERS = {"driver": (Node.driver, 16), "resource_class": (Node.resource_class, 21),
                   "fault": (Node.fault, 42), "owner": (Node.owner, 50),
                   "lessee": (Node.lessee, 65)}
_BOOL_FILTERS = {"maintenance": (Node.maintenance, 1), "retired": (Node.retired, 61)}


def _sort_column(key: str):
    """The column for ?sort_key=: Ironic's default "id" is creation order here."""
    if key in UNSORTABLE or key not in NODE_FIELDS | {"id"}:
        raise BadRequest(f"The sort_key value {key} is an invalid field for sorting")
    name = {"id": "created_at", "uuid": "id"}.get(key, key)
    column = getattr(Node, name, None)
    if column is None or not hasattr(column, "column_name"):
        raise BadRequest(f"The sort_key value {key} is an invalid field for sorting")
    return column


def _order():
    key, direction = sort_args()
    return [(_sort_column(key), direction)]


def _filtered(query):
    args = request.args
    for name, (column, minor) in _COLUMN_FILTERS.items():
        if args.get(name) is not None:
            require(minor)
            query = query.where(column == args[name])
    for name, (column, minor) in _BOOL_FILTERS.items():
        value = bool_arg(name)
        if value is not None:
            require(minor)
            query = query.where(column == value)
    state = args.get("provision_state")
    if state is not None:
        require(9)
        if state not in PROVISION_STATES:
            raise BadRequest(f"Provision state \"{state}\" is not valid")
        query = query.where(Node.provision_state == state)
    if args.get("instance_uuid") is not None:
        instance_uuid = as_uuid(args["instance_uuid"])
        if instance_uuid is None:
            raise BadRequest(f"Expected a UUID but received {args['instance_uuid']}.")
        query = query.where(Node.instance_uuid == instance_uuid)
    associated = bool_arg("associated")
    if associated is not None:
        query = query.where(Node.instance_uuid.is_null(not associated))
    if args.get("conductor_group") is not None:
        require(46)
        query = query.where(Node.conductor_group == args["conductor_group"].lower())
    if args.get("conductor") is not None:
        require(49)
        groups = [group for group, host in conductor_by_group(alive_conductors()).items()
                  if host == args["conductor"]]
        query = query.where(Node.conductor_group.in_(groups))
    if args.get("description_contains") is not None:
        require(51)
        query = query.where(Node.description.contains(args["description_contains"]))
    if args.get("project") is not None:
        require(65)
        query = query.where((Node.owner == args["project"]) | (Node.lessee == args["project"]))
    # No chassis, shards or child nodes exist here: asking for them finds nothing.
    if args.get("chassis_uuid") or args.get("shard") or args.get("parent_node") \
            or bool_arg("sharded"):
        query = query.where(Node.id.is_null())
    return query


def list_nodes(detail: bool):
    policy.enforce("baremetal:node:list")
    fields = fields_arg(NODE_FIELDS, views.NODE_FIELD_VERSIONS)
    if detail and fields is not None:
        raise BadRequest("Can not specify ?detail=True and fields in the same request.")
    if not detail and fields is None:
        fields = list(views.DEFAULT_NODE_FIELDS)
    marker = request.args.get("marker")
    if marker is not None and as_uuid(marker) is None:
        raise BadRequest(f"Expected a UUID but received {marker}.")
    query = Node.select()
    visible = policy.visible_nodes()
    if visible is not None:
        query = query.where(visible)
    limit = limit_arg()
    rows = paging.paginate(_filtered(query), Node, _order(), limit,
                           as_uuid(marker) if marker else None)
    hosts = conductor_by_group(alive_conductors())
    nodes = [views.node(config(), row, fields, hosts.get(row.conductor_group or ""))
             for row in rows]
    return respond(views.collection("nodes", nodes, next_href(rows, limit)))


@blueprint.get("/v1/nodes")
def index():
    detail = bool_arg("detail")
    if detail is not None:
        require(43)
    return list_nodes(bool(detail))


@blueprint.get("/v1/nodes/detail")
def detail():
    return list_nodes(True)
