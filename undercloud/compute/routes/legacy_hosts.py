"""os-hosts (before 2.43): Nova's old per-host view, built from services and hypervisors."""
from flask import Blueprint, request

from undercloud.common.errors import ApiError, BadRequest, NotFound
from undercloud.common.validation import check, json_body
from undercloud.compute import policy, views
from undercloud.compute.models import ComputeNode, Instance, ServiceRecord
from undercloud.compute.routes.common import config, respond
from undercloud.compute.routes.hosts import _apply

blueprint = Blueprint("compute_legacy_hosts", __name__)


class NotImplementedByDriver(ApiError):
    code, title = 501, "Not Implemented"
    message = "Virt driver does not implement host power management."


@blueprint.before_request
def removed_in_2_43():
    if views.at_least("2.43"):
        raise NotFound("The resource could not be found.")


def _zone(service) -> str:
    if service.binary != "nova-compute":
        return service.zone
    node = ComputeNode.get_or_none(ComputeNode.host == service.host)
    return node.availability_zone if node else config()["compute"]["default_availability_zone"]


@blueprint.get("/v2.1/os-hosts")
def list_hosts():
    policy.enforce("hosts")
    hosts = [{"host_name": s.host, "service": s.binary.removeprefix("nova-"), "zone": _zone(s)}
             for s in ServiceRecord.select().order_by(ServiceRecord.host, ServiceRecord.binary)]
    zone = request.args.get("zone")
    if zone:
        hosts = [h for h in hosts if h["zone"] == zone]
    return respond({"hosts": hosts})


def _node(host: str) -> ComputeNode:
    node = ComputeNode.get_or_none(ComputeNode.host == host)
    if node is None:
        raise NotFound(f"Compute host {host} could not be found.")
    return node


@blueprint.get("/v2.1/os-hosts/<host>")
def show_host(host):
    policy.enforce("hosts")
    node = _node(host)

    def resource(project, cpu, memory_mb, disk_gb):
        return {"resource": {"host": host, "project": project, "cpu": cpu,
                             "memory_mb": memory_mb, "disk_gb": disk_gb}}
    instances = list(Instance.select().where(Instance.host == host,
                                             Instance.deleted == False))  # noqa: E712
    projects: dict = {}
    for instance in instances:
        flavor = instance.flavor or {}
        used = projects.setdefault(instance.project_id, [0, 0, 0])
        used[0] += flavor.get("vcpus", 0)
        used[1] += flavor.get("memory_mb", 0)
        used[2] += flavor.get("root_gb", 0) + flavor.get("ephemeral_gb", 0)
    totals = [sum(p[i] for p in projects.values()) for i in range(3)]
    rows = [resource("(total)", node.vcpus, node.memory_mb, node.local_gb),
            resource("(used_now)", node.vcpus_used, node.memory_mb_used, node.local_gb_used),
            resource("(used_max)", *totals)]
    rows += [resource(project, *used) for project, used in sorted(projects.items())]
    return respond({"host": rows})


@blueprint.put("/v2.1/os-hosts/<host>")
def update_host(host):
    policy.enforce("hosts")
    body = json_body()
    check(body, {"type": "object", "properties": {
        "status": {"enum": ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"]},
        "maintenance_mode": {"enum": ["enable", "disable", "Enable", "Disable", "ENABLE",
                                      "DISABLE"]}},
        "anyOf": [{"required": ["status"]}, {"required": ["maintenance_mode"]}],
        "additionalProperties": False})
    _node(host)
    if "maintenance_mode" in body:
        raise NotImplementedByDriver("Virt driver does not implement host maintenance mode.")
    service = ServiceRecord.get_or_none(ServiceRecord.host == host,
                                        ServiceRecord.binary == "nova-compute")
    if service is None:
        raise BadRequest(f"Host {host} has no compute service to enable or disable.")
    enabled = body["status"].lower() == "enable"
    _apply(service, enabled, "disabled via os-hosts")
    return respond({"host": host, "status": "enabled" if enabled else "disabled"})


@blueprint.get("/v2.1/os-hosts/<host>/<action>")
def power_action(host, action):
    if action not in ("startup", "shutdown", "reboot"):
        raise NotFound("The resource could not be found.")
    policy.enforce("hosts")
    _node(host)
    raise NotImplementedByDriver()
