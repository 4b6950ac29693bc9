"""/servers/{id}/os-instance-actions: what was asked of a server, and how each step went."""
from flask import Blueprint, request

from undercloud.common.errors import BadRequest, NotFound
from undercloud.compute import policy, views
from undercloud.compute.models import InstanceAction, InstanceActionEvent
from undercloud.compute.routes.common import integer_arg, respond
from undercloud.compute.routes.server_listing import parse_time

blueprint = Blueprint("compute_instance_actions", __name__)


def _server(server_id):
    # 2.21+: actions of deleted servers stay readable.
    server = policy.find_server(server_id, deleted=views.at_least("2.21"))
    policy.enforce("instance-actions:list", project_id=server.project_id)
    return server


def _view(action) -> dict:
    shown = {"action": action.action, "instance_uuid": action.instance_id,
             "message": action.message, "project_id": action.project_id,
             "request_id": action.request_id,
             "start_time": views.timestamp_micro(action.start_time),
             "user_id": action.user_id}
    if views.at_least("2.58"):
        shown["updated_at"] = views.timestamp_micro(action.updated_at)
    return shown


@blueprint.get("/v2.1/servers/<server_id>/os-instance-actions")
def list_actions(server_id):
    server = _server(server_id)
    query = InstanceAction.select().where(InstanceAction.instance == server.id)
    limit = marker = None
    if views.at_least("2.58"):
        limit = integer_arg(request.args, "limit")
        marker = request.args.get("marker")
        for name, compare in (("changes-since", "ge"), ("changes-before", "le")):
            if request.args.get(name) and (name == "changes-since" or
                                           views.at_least("2.66")):
                when = parse_time(request.args[name], name)
                query = query.where(InstanceAction.updated_at >= when if compare == "ge"
                                    else InstanceAction.updated_at <= when)
    rows = list(query.order_by(InstanceAction.start_time.desc(), InstanceAction.id.desc()))
    if marker:
        ids = [row.request_id for row in rows]
        if marker not in ids:
            raise BadRequest(f"Marker {marker} could not be found.")
        rows = rows[ids.index(marker) + 1:]
    if limit is not None:
        rows = rows[:limit]
    document = {"instanceActions": [_view(row) for row in rows]}
    if limit and len(rows) == limit:
        document["links"] = [{"rel": "next", "href": f"{request.base_url}?limit={limit}"
                              f"&marker={rows[-1].request_id}"}]
    return respond(document)


@blueprint.get("/v2.1/servers/<server_id>/os-instance-actions/<request_id>")
def show_action(server_id, request_id):
    server = _server(server_id)
    action = InstanceAction.select().where(InstanceAction.instance == server.id,
                                           InstanceAction.request_id == request_id).first()
    if action is None:
        raise NotFound(f"Action for request_id {request_id} on instance {server.id} not found")
    shown = _view(action)
    admin = policy.allowed("instance-actions:events:details", project_id=server.project_id)
    if admin or views.at_least("2.51"):
        events = []
        for event in InstanceActionEvent.select().where(
                InstanceActionEvent.action == action.id).order_by(InstanceActionEvent.start_time):
            item = {"event": event.event, "start_time": views.timestamp_micro(event.start_time),
                    "finish_time": views.timestamp_micro(event.finish_time),
                    "result": event.result}
            if admin:
                item["traceback"] = event.traceback
            if views.at_least("2.62"):
                if admin:
                    item["host"] = event.host or ""
                item["hostId"] = views.hashed_host(server.project_id, event.host)
            if admin and views.at_least("2.84"):
                item["details"] = None
            events.append(item)
        shown["events"] = events
    return respond({"instanceAction": shown})
