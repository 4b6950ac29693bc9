"""GET /servers/{id}/diagnostics (admin): what the control plane knows about a guest.

Live counters (CPU time, disk and NIC I/O) would need a call to the server's host, which the
compute rpcapi does not offer yet; they are left out (2.48 marks them optional), and the
pre-2.48 driver-specific form carries the same facts.
"""
from flask import Blueprint

from undercloud import db
from undercloud.common.errors import Conflict
from undercloud.compute import policy, views
from undercloud.compute.models import ComputeNode
from undercloud.compute.routes.common import respond

blueprint = Blueprint("compute_diagnostics", __name__)

# Nova's power_state numbers -> the 2.48 "state" words.
_STATES = {0: "pending", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed",
           7: "suspended"}


@blueprint.get("/v2.1/servers/<server_id>/diagnostics")
def show_diagnostics(server_id):
    server = policy.find_server(server_id)
    policy.enforce("servers:diagnostics", project_id=server.project_id)
    if not server.host or server.vm_state in ("building", "error") or server.task_state:
        raise Conflict(f"Cannot 'get_diagnostics' instance {server.id} while it is in "
                       f"vm_state {server.vm_state}")
    flavor = server.flavor or {}
    node = ComputeNode.get_or_none(ComputeNode.host == server.host)
    began = server.launched_at or server.created_at
    uptime = int((db.utcnow() - began).total_seconds()) if began else 0
    disks = 1 + (1 if flavor.get("ephemeral_gb") else 0) + (1 if flavor.get("swap") else 0)
    if not views.at_least("2.48"):
        return respond({"memory": flavor.get("memory_mb", 0) * 1024, "uptime": uptime,
                        "num_cpus": flavor.get("vcpus", 0), "state": _STATES.get(
                            server.power_state, "pending")})
    return respond({
        "state": _STATES.get(server.power_state, "pending"), "driver": "libvirt",
        "hypervisor": (node.hypervisor_type.lower() if node else "qemu"),
        "hypervisor_os": "linux", "uptime": uptime, "config_drive": bool(server.config_drive),
        "num_cpus": flavor.get("vcpus", 0), "num_nics": 0, "num_disks": disks,
        "memory_details": {"maximum": flavor.get("memory_mb", 0), "used": 0},
        "cpu_details": [], "nic_details": [], "disk_details": []})
