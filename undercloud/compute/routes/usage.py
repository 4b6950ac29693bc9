"""os-simple-tenant-usage: server hours per project over a period (Horizon's overview)."""
import datetime

from flask import Blueprint, request

from undercloud import db
from undercloud.common.errors import BadRequest, NotFound
from undercloud.compute import policy, views
from undercloud.compute.models import Instance
from undercloud.compute.routes.common import integer_arg, respond

blueprint = Blueprint("compute_usage", __name__)


def _time(name: str, default: datetime.datetime) -> datetime.datetime:
    text = request.args.get(name)
    if not text:
        return default
    for form in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f",
                 "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text.rstrip("Z"), form)
        except ValueError:
            continue
    raise BadRequest(f"Invalid {name} time {text!r}: use YYYY-MM-DDThh:mm:ss.")


def _period():
    now = db.utcnow()
    start, end = _time("start", now), _time("end", now)
    if start > end:
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return start, end


def _server_usage(instance, start, end) -> dict | None:
    began = instance.launched_at or instance.created_at
    ended = instance.terminated_at
    if began > end or (ended and ended < start):
        return None
    hours = ((min(ended or end, end) - max(began, start)).total_seconds()) / 3600
    flavor = instance.flavor or {}
    state = "terminated" if instance.deleted else instance.vm_state
    return {"instance_id": instance.id, "name": instance.display_name,
            "tenant_id": instance.project_id, "flavor": flavor.get("name"), "hours": hours,
            "vcpus": flavor.get("vcpus", 0), "memory_mb": flavor.get("memory_mb", 0),
            "local_gb": flavor.get("root_gb", 0) + flavor.get("ephemeral_gb", 0),
            "state": state, "started_at": views.timestamp_micro(began),
            "ended_at": views.timestamp_micro(ended),
            "uptime": int(((ended or db.utcnow()) - began).total_seconds())}


def _usages(instances, start, end, detailed: bool) -> dict:
    projects: dict = {}
    for instance in instances:
        used = _server_usage(instance, start, end)
        if used is None:
            continue
        project = projects.setdefault(instance.project_id, {
            "tenant_id": instance.project_id, "total_hours": 0.0, "total_local_gb_usage": 0.0,
            "total_memory_mb_usage": 0.0, "total_vcpus_usage": 0.0,
            "start": views.timestamp_micro(start), "stop": views.timestamp_micro(end),
            "server_usages": []})
        project["total_hours"] += used["hours"]
        project["total_local_gb_usage"] += used["local_gb"] * used["hours"]
        project["total_memory_mb_usage"] += used["memory_mb"] * used["hours"]
        project["total_vcpus_usage"] += used["vcpus"] * used["hours"]
        project["server_usages"].append(used)
    if not detailed:
        for project in projects.values():
            project.pop("server_usages")
    return projects


def _page(query):
    if not views.at_least("2.40"):
        return list(query.order_by(Instance.created_at, Instance.id))
    rows = list(query.order_by(Instance.created_at, Instance.id))
    marker = request.args.get("marker")
    if marker:
        ids = [row.id for row in rows]
        if marker not in ids:
            raise BadRequest(f"Marker {marker} could not be found.")
        rows = rows[ids.index(marker) + 1:]
    limit = integer_arg(request.args, "limit")
    return rows[:limit] if limit is not None else rows


@blueprint.get("/v2.1/os-simple-tenant-usage")
def list_usage():
    if request.path.endswith("/"):
        raise NotFound("The resource could not be found.")  # an empty project id, as in Nova
    policy.enforce("simple-tenant-usage:list")
    start, end = _period()
    detailed = request.args.get("detailed", "0").lower() in ("1", "true", "yes")
    rows = _page(Instance.select())
    return respond({"tenant_usages": list(_usages(rows, start, end, detailed).values())})


@blueprint.get("/v2.1/os-simple-tenant-usage/<project_id>")
def show_usage(project_id):
    policy.enforce("simple-tenant-usage:show", project_id=project_id)
    start, end = _period()
    rows = _page(Instance.select().where(Instance.project_id == project_id))
    usage = _usages(rows, start, end, detailed=True).get(project_id, {})
    return respond({"tenant_usage": usage})
