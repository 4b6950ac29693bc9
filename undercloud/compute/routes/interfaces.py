"""os-interface: a server's ports (Nova's interfaceAttachments), attached and detached live.

Attaching is a call to the server's host, which allocates the port from the network service,
has its agent plug it and hot-plugs the NIC, so the answer carries the new port or the
network's refusal. Detaching is cast, as in Nova.
"""
import logging

from flask import Blueprint

from undercloud.bus import BusError
from undercloud.common.errors import BadRequest, Conflict, Internal, NotFound
from undercloud.common.validation import check, json_body
from undercloud.compute import policy, schemas, views
from undercloud.compute.routes.common import (computes, conflict_state, network, no_content,
                                              record_action, respond, rpc_context)
from undercloud.compute.routes.servers import network_refusal
from undercloud.network.rpcapi import (InvalidNetworkRequest, NetworkAttachForbidden,
                                       NetworkRequestConflict, NetworkRequestNotFound)

blueprint = Blueprint("compute_interfaces", __name__)
LOG = logging.getLogger(__name__)
# Nova attaches and detaches only in these states, with no task running.
STATES = ("active", "paused", "stopped")
REFUSALS = (InvalidNetworkRequest, NetworkAttachForbidden, NetworkRequestConflict,
            NetworkRequestNotFound)

ATTACH = {
    "type": "object",
    "properties": {"interfaceAttachment": {
        "type": "object",
        "properties": {
            "net_id": schemas.UUID, "port_id": schemas.UUID,
            "fixed_ips": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "object", "properties": {"ip_address": {"type": "string"}},
                "required": ["ip_address"], "additionalProperties": False}},
            "tag": {"type": "string", "minLength": 1, "maxLength": 60,
                    "pattern": r"^[^,/]*$"}},
        "additionalProperties": False}},
    "additionalProperties": False,
}


def _view(vif: dict) -> dict:
    shown = {"net_id": vif["network_id"], "port_id": vif["port_id"],
             "mac_addr": vif["mac_address"], "port_state": vif.get("status", "ACTIVE"),
             "fixed_ips": [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}
                           for ip in vif.get("fixed_ips") or []]}
    if views.at_least("2.70"):
        shown["tag"] = vif.get("tag")
    return shown


def _interfaces(server) -> list[dict]:
    """The server's ports as the network service has them now (its record if it is away),
    with the tags given when they were attached."""
    stored = {vif["port_id"]: vif for vif in server.network_info or []}
    try:
        current = network().network_info(server.id)
    except BusError:
        LOG.warning("the network service did not answer; showing server %s's ports as "
                    "recorded", server.id)
        return list(stored.values())
    return [{**vif, "tag": stored.get(vif["port_id"], {}).get("tag")} for vif in current]


def _changeable(server, action: str):
    if server.locked and not policy.allowed("servers:unlock:unlock_override",
                                            project_id=server.project_id):
        raise Conflict(f"Instance {server.id} is locked")
    if server.vm_state not in STATES or not server.host:
        raise conflict_state(server, action)
    if server.task_state is not None:
        raise conflict_state(server, action, "task_state")


@blueprint.get("/v2.1/servers/<server_id>/os-interface")
def list_interfaces(server_id):
    server = policy.find_server(server_id)
    policy.enforce("os-attach-interfaces:list", project_id=server.project_id)
    return respond({"interfaceAttachments": [_view(vif) for vif in _interfaces(server)]})


@blueprint.get("/v2.1/servers/<server_id>/os-interface/<port_id>")
def show_interface(server_id, port_id):
    server = policy.find_server(server_id)
    policy.enforce("os-attach-interfaces:show", project_id=server.project_id)
    for vif in _interfaces(server):
        if vif["port_id"] == port_id:
            return respond({"interfaceAttachment": _view(vif)})
    raise NotFound(f"Instance {server_id} does not have a port with id {port_id}")


@blueprint.post("/v2.1/servers/<server_id>/os-interface")
def attach_interface(server_id):
    body = json_body(required=False) or {}
    check(body, ATTACH)
    server = policy.find_server(server_id)
    policy.enforce("os-attach-interfaces:create", project_id=server.project_id)
    attachment = body.get("interfaceAttachment") or {}
    if "tag" in attachment and not views.at_least("2.49"):
        raise BadRequest("Invalid input for field/attribute interfaceAttachment. Additional "
                         "properties are not allowed ('tag' was unexpected)")
    network_id, port_id = attachment.get("net_id"), attachment.get("port_id")
    fixed_ips = attachment.get("fixed_ips") or []
    if network_id and port_id:
        raise BadRequest("Must not input both network_id and port_id")
    if fixed_ips and not network_id:
        raise BadRequest("Must input network_id when request IP address")
    _changeable(server, "attach_interface")
    record_action(server, "attach_interface")
    try:
        vif = computes().attach_interface(
            rpc_context(), server.host, server.id, network_id=network_id, port_id=port_id,
            fixed_ip=fixed_ips[0]["ip_address"] if fixed_ips else None,
            tag=attachment.get("tag"))
    except REFUSALS as exc:
        raise network_refusal(exc, not_found=NotFound) from None
    except BusError as exc:
        LOG.warning("attaching an interface to server %s failed: %s", server.id, exc)
        raise Internal(f"Failed to attach network adapter device to {server.id}: "
                       f"{exc}") from None
    return respond({"interfaceAttachment": _view(vif)})


@blueprint.delete("/v2.1/servers/<server_id>/os-interface/<port_id>")
def detach_interface(server_id, port_id):
    server = policy.find_server(server_id)
    policy.enforce("os-attach-interfaces:delete", project_id=server.project_id)
    _changeable(server, "detach_interface")
    if port_id not in {vif["port_id"] for vif in server.network_info or []}:
        raise NotFound(f"Port {port_id} is not attached")
    record_action(server, "detach_interface")
    try:
        computes().detach_interface(rpc_context(), server.host, server.id, port_id)
    except Exception:  # noqa: BLE001 (the user can ask again; nothing changed yet)
        LOG.exception("could not cast detach_interface for %s", server.id)
    return no_content(202)

