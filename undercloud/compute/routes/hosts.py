"""What the cloud runs on: os-availability-zone, os-hypervisors and os-services (admin).

Hosts report themselves (ComputeNode, ServiceRecord rows written by the conductor); a
service whose last report is older than compute.service_down_time is "down".
"""
import datetime
import socket
import zlib

from flask import Blueprint, request

from undercloud import db
from undercloud.common.errors import BadRequest, NotFound
from undercloud.common.validation import check, json_body
from undercloud.compute import policy, schemas, views
from undercloud.compute.models import ComputeNode, Instance, ServiceRecord
from undercloud.compute.routes.common import config, no_content, respond

blueprint = Blueprint("compute_hosts", __name__)


def is_up(heartbeat_at, forced_down: bool = False) -> bool:
    if forced_down or heartbeat_at is None:
        return False
    window = datetime.timedelta(seconds=config()["compute"]["service_down_time"])
    return db.utcnow() - heartbeat_at <= window


def _number(text_id: str) -> int:
    # Before 2.53 Nova's ids are integers; ours are uuids, shown as a stable 31-bit number.
    return zlib.crc32(text_id.encode()) & 0x7FFFFFFF


def _id(row):
    return row.id if views.at_least("2.53") else _number(row.id)


def _find(model, given: str):
    for row in model.select():
        if row.id == given or str(_number(row.id)) == given:
            return row
    return None


# Availability zones.

@blueprint.get("/v2.1/os-availability-zone")
def list_zones():
    policy.enforce("availability-zone:list")
    zones = {}
    for node in ComputeNode.select():
        up = node.enabled and is_up(node.heartbeat_at, node.forced_down)
        zones[node.availability_zone] = zones.get(node.availability_zone, False) or up
    if not zones:
        zones[config()["compute"]["default_availability_zone"]] = True
    return respond({"availabilityZoneInfo": [
        {"zoneName": name, "zoneState": {"available": available}, "hosts": None}
        for name, available in sorted(zones.items())]})


@blueprint.get("/v2.1/os-availability-zone/detail")
def list_zones_detail():
    policy.enforce("availability-zone:detail")
    zones: dict = {}
    for service in ServiceRecord.select():
        zone = service.zone
        if service.binary == "nova-compute":
            node = ComputeNode.get_or_none(ComputeNode.host == service.host)
            zone = node.availability_zone if node else config()["compute"][
                "default_availability_zone"]
        hosts = zones.setdefault(zone, {})
        hosts.setdefault(service.host, {})[service.binary] = {
            "available": is_up(service.heartbeat_at, service.forced_down),
            "active": service.enabled, "updated_at": views.timestamp_micro(service.updated_at)}
    return respond({"availabilityZoneInfo": [
        {"zoneName": name, "hosts": hosts, "zoneState": {"available": any(
            s["available"] for h in hosts.values() for s in h.values())}}
        for name, hosts in sorted(zones.items())]})


# Hypervisors.

def _service(node):
    return ServiceRecord.get_or_none(ServiceRecord.binary == "nova-compute",
                                     ServiceRecord.host == node.host)


def _hypervisor(node, detail: bool, servers: bool = False) -> dict:
    service = _service(node)
    shown = {"id": _id(node), "hypervisor_hostname": node.hypervisor_hostname,
             "state": "up" if is_up(node.heartbeat_at, node.forced_down) else "down",
             "status": "enabled" if node.enabled else "disabled"}
    if detail:
        free_disk = node.local_gb - node.local_gb_used
        shown.update({
            "cpu_info": node.cpu_info if views.at_least("2.28") else str(node.cpu_info),
            "current_workload": 0, "disk_available_least": free_disk,
            "free_disk_gb": free_disk, "free_ram_mb": node.memory_mb - node.memory_mb_used,
            "host_ip": node.host_ip, "hypervisor_type": node.hypervisor_type,
            "hypervisor_version": node.hypervisor_version, "local_gb": node.local_gb,
            "local_gb_used": node.local_gb_used, "memory_mb": node.memory_mb,
            "memory_mb_used": node.memory_mb_used, "running_vms": node.running_vms,
            "vcpus": node.vcpus, "vcpus_used": node.vcpus_used,
            "service": {"host": node.host, "id": _id(service) if service else None,
                        "disabled_reason": node.disabled_reason}})
    if servers:
        shown["servers"] = [{"name": views.instance_name(i), "uuid": i.id}
                            for i in Instance.select().where(Instance.host == node.host,
                                                             Instance.deleted == False)]  # noqa
    return shown


def _nodes():
    query = ComputeNode.select().order_by(ComputeNode.hypervisor_hostname)
    pattern = request.args.get("hypervisor_hostname_pattern") if views.at_least("2.53") else None
    if pattern:
        query = query.where(ComputeNode.hypervisor_hostname.contains(pattern))
    return list(query)


def _with_servers() -> bool:
    """2.53's ?with_servers=true: embed each hypervisor's servers."""
    return views.at_least("2.53") and request.args.get("with_servers", "").lower() in (
        "true", "1", "yes")


@blueprint.get("/v2.1/os-hypervisors")
def list_hypervisors():
    policy.enforce("hypervisors")
    embed = _with_servers()
    return respond({"hypervisors": [_hypervisor(n, False, embed) for n in _nodes()]})


@blueprint.get("/v2.1/os-hypervisors/detail")
def list_hypervisors_detail():
    policy.enforce("hypervisors")
    embed = _with_servers()
    return respond({"hypervisors": [_hypervisor(n, True, embed) for n in _nodes()]})


@blueprint.get("/v2.1/os-hypervisors/statistics")
def hypervisor_statistics():
    policy.enforce("hypervisors")
    nodes = list(ComputeNode.select())
    keys = ("vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "local_gb",
            "local_gb_used", "running_vms")
    stats = {key: sum(getattr(n, key) for n in nodes) for key in keys}
    stats.update(count=len(nodes), current_workload=0,
                 free_ram_mb=stats["memory_mb"] - stats["memory_mb_used"],
                 free_disk_gb=stats["local_gb"] - stats["local_gb_used"],
                 disk_available_least=stats["local_gb"] - stats["local_gb_used"])
    return respond({"hypervisor_statistics": stats})


@blueprint.get("/v2.1/os-hypervisors/<hypervisor_id>")
def show_hypervisor(hypervisor_id):
    policy.enforce("hypervisors")
    node = _find(ComputeNode, hypervisor_id)
    if node is None:
        raise NotFound(f"Hypervisor with ID {hypervisor_id} could not be found.")
    return respond({"hypervisor": _hypervisor(node, True, _with_servers())})


def _uptime(node) -> str | None:
    """`uptime`'s line for this machine's own hypervisor (the one host whose clock we can read)."""
    if node.host not in (socket.gethostname(), config()["compute"]["host"]):
        return None
    try:
        with open("/proc/uptime") as up, open("/proc/loadavg") as load:
            seconds = int(float(up.read().split()[0]))
            averages = load.read().split()[:3]
    except OSError:
        return None
    days, rest = divmod(seconds, 86400)
    now = datetime.datetime.now().strftime("%H:%M:%S")
    return (f" {now} up {days} days, {rest // 3600:2d}:{rest % 3600 // 60:02d}, 1 users,  "
            f"load average: {', '.join(averages)}")


@blueprint.get("/v2.1/os-hypervisors/<hypervisor_id>/uptime")
def hypervisor_uptime(hypervisor_id):
    policy.enforce("hypervisors")
    node = _find(ComputeNode, hypervisor_id)
    if node is None:
        raise NotFound(f"Hypervisor with ID {hypervisor_id} could not be found.")
    return respond({"hypervisor": {**_hypervisor(node, False), "uptime": _uptime(node)}})


@blueprint.get("/v2.1/os-hypervisors/<pattern>/search")
def search_hypervisors(pattern):
    policy.enforce("hypervisors")
    nodes = [n for n in ComputeNode.select() if pattern in n.hypervisor_hostname]
    if not nodes:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return respond({"hypervisors": [_hypervisor(n, False) for n in nodes]})


@blueprint.get("/v2.1/os-hypervisors/<pattern>/servers")
def hypervisor_servers(pattern):
    policy.enforce("hypervisors")
    nodes = [n for n in ComputeNode.select() if pattern in n.hypervisor_hostname]
    if not nodes:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return respond({"hypervisors": [_hypervisor(n, False, True) for n in nodes]})


# Services.

def _service_view(row) -> dict:
    shown = {"id": _id(row), "binary": row.binary, "host": row.host, "zone": row.zone,
             "status": "enabled" if row.enabled else "disabled",
             "state": "up" if is_up(row.heartbeat_at, row.forced_down) else "down",
             "updated_at": views.timestamp_micro(row.heartbeat_at or row.updated_at),
             "disabled_reason": row.disabled_reason}
    if row.binary == "nova-compute":
        node = ComputeNode.get_or_none(ComputeNode.host == row.host)
        if node is not None:
            shown["zone"] = node.availability_zone
    if views.at_least("2.11"):
        shown["forced_down"] = bool(row.forced_down)
    return shown


@blueprint.get("/v2.1/os-services")
def list_services():
    policy.enforce("services")
    query = ServiceRecord.select().order_by(ServiceRecord.binary, ServiceRecord.host)
    if request.args.get("host"):
        query = query.where(ServiceRecord.host == request.args["host"])
    if request.args.get("binary"):
        query = query.where(ServiceRecord.binary == request.args["binary"])
    return respond({"services": [_service_view(row) for row in query]})


def _apply(row, enabled=None, reason=None, forced_down=None):
    """Change a service and, for nova-compute, the ComputeNode the scheduler reads."""
    with db.transaction():
        if enabled is not None:
            row.enabled, row.disabled_reason = enabled, (None if enabled else reason)
        if forced_down is not None:
            row.forced_down = forced_down
        row.save()
        if row.binary == "nova-compute":
            ComputeNode.update(enabled=row.enabled, disabled_reason=row.disabled_reason,
                               forced_down=row.forced_down).where(
                ComputeNode.host == row.host).execute()


@blueprint.put("/v2.1/os-services/<action>")
def update_service(action):
    policy.enforce("services")
    body = json_body()
    check(body, schemas.SERVICE_UPDATE)
    if views.at_least("2.53"):
        row = _find(ServiceRecord, action)
        if row is None:
            raise NotFound(f"Service {action} could not be found.")
        if body.get("disabled_reason") and body.get("status") != "disabled":
            raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
        enabled = None if "status" not in body else body["status"] == "enabled"
        forced = schemas.truthy(body["forced_down"]) if "forced_down" in body else None
        _apply(row, enabled, body.get("disabled_reason"), forced)
        return respond({"service": _service_view(row)})
    if action not in ("enable", "disable", "disable-log-reason", "force-down"):
        raise NotFound(f"Unknown action {action}")
    row = ServiceRecord.get_or_none(ServiceRecord.host == body.get("host"),
                                    ServiceRecord.binary == body.get("binary"))
    if row is None:
        raise NotFound(f"Service {body.get('binary')} on host {body.get('host')} not found.")
    if action == "force-down":
        _apply(row, forced_down=schemas.truthy(body.get("forced_down", True)))
        return respond({"service": {"host": row.host, "binary": row.binary,
                                    "forced_down": row.forced_down}})
    if action == "disable-log-reason" and not body.get("disabled_reason"):
        raise BadRequest("Missing disabled reason field")
    _apply(row, action == "enable", body.get("disabled_reason"))
    shown = {"host": row.host, "binary": row.binary,
             "status": "enabled" if row.enabled else "disabled"}
    if action == "disable-log-reason":
        shown["disabled_reason"] = row.disabled_reason
    return respond({"service": shown})


@blueprint.delete("/v2.1/os-services/<service_id>")
def delete_service(service_id):
    policy.enforce("services")
    row = _find(ServiceRecord, service_id)
    if row is None:
        raise NotFound(f"Service {service_id} could not be found.")
    with db.transaction():
        if row.binary == "nova-compute":
            ComputeNode.delete().where(ComputeNode.host == row.host).execute()
        row.delete_instance()
    return no_content()
