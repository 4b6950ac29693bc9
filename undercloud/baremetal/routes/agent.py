"""The deploy/discovery ramdisk's endpoints (no Keystone token): lookup, heartbeat and
continue_inspection, in the contract rpcapi.py describes.

The ramdisk proves itself with an agent token: minted on its first lookup of a boot, given to
it once, and kept here only as a SHA-256 in driver_internal_info["agent_token_hash"]. A
busybox wget may send no microversion: the minimum applies, and these endpoints accept it.
"""
import hashlib
import hmac
import logging
import secrets

import peewee
from flask import Blueprint, request

from undercloud import db
from undercloud.baremetal import driverinfo, schemas, states, views
from undercloud.baremetal.models import Node, Port
from undercloud.baremetal.routes.common import (as_uuid, ask_conductor, conductor, config,
                                                respond)
from undercloud.baremetal.routes.ports import normalized_mac
from undercloud.common import validation
from undercloud.common.auth import public
from undercloud.common.errors import BadRequest, Conflict, NotFound, Unauthorized

LOG = logging.getLogger(__name__)
blueprint = Blueprint("baremetal_agent", __name__)

TOKEN_KEY = "agent_token_hash"
# Where a ramdisk may look its node up (Ironic's LOOKUP_ALLOWED_STATES).
LOOKUP_STATES = (states.DEPLOYING, states.DEPLOY_WAIT, states.CLEANING, states.CLEAN_WAIT,
                 states.INSPECTING, states.INSPECT_WAIT)
INSPECTION_STATES = (states.INSPECTING, states.INSPECT_WAIT)
AGENT_STATUSES = ("start", "end", "error")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _valid_macs(addresses) -> list[str]:
    macs = []
    for address in addresses:
        try:
            macs.append(normalized_mac(address))
        except BadRequest:
            LOG.warning("ignoring the invalid MAC address %r a ramdisk sent", address)
    return macs


def _nodes_with_ports(macs: list[str]) -> list[Node]:
    if not macs:
        return []
    return list(Node.select().join(Port).where(Port.address.in_(macs)).distinct())


def _locked(query):
    # SQLite serializes writers at BEGIN IMMEDIATE; PostgreSQL needs the row lock.
    return query.for_update() if isinstance(db.database.obj, peewee.PostgresqlDatabase) else query


def _token_for(node: Node) -> str:
    """A fresh token on the first lookup of a boot; "******" once it was given out."""
    with db.transaction():
        current = _locked(Node.select().where(Node.id == node.id)).get()
        internal = dict(current.driver_internal_info or {})
        if internal.get(TOKEN_KEY):
            return driverinfo.MASK
        token = secrets.token_urlsafe(32)
        internal[TOKEN_KEY] = token_hash(token)
        Node.update(driver_internal_info=internal).where(Node.id == node.id).execute()
    return token


@blueprint.get("/v1/lookup")
@public
def lookup():
    addresses = [a for a in request.args.get("addresses", "").split(",") if a.strip()]
    macs, node_uuid = _valid_macs(addresses), request.args.get("node_uuid")
    if not macs and not node_uuid:
        raise BadRequest("At least one of 'addresses' and 'node_uuid' parameters is required")
    if node_uuid:
        if as_uuid(node_uuid) is None:
            raise BadRequest(f"Expected a UUID but received {node_uuid}.")
        found = list(Node.select().where(Node.id == as_uuid(node_uuid)))
    else:
        found = _nodes_with_ports(macs)
    # One answer for "no such node" and "not waiting for a ramdisk", as Ironic gives.
    if len(found) != 1 or found[0].provision_state not in LOOKUP_STATES:
        LOG.warning("lookup by %s found %s", ", ".join(macs) or node_uuid,
                    "; ".join(f"{n.id} in {n.provision_state}" for n in found) or "no node")
        raise NotFound("The resource could not be found.")
    node = found[0]
    token = _token_for(node)
    node = Node.get_by_id(node.id)
    document = {"uuid": node.id, "properties": node.properties or {},
                "instance_info": views.instance_info(node),
                "driver_internal_info": views.driver_internal_info(node),
                "links": views.links("nodes", node.id)}
    heartbeat_timeout = config()["baremetal"]["heartbeat_interval"]
    return respond({"node": document,
                    "config": {"heartbeat_timeout": heartbeat_timeout, "agent_token": token,
                               "agent_token_required": True}})


def _node_by_ident(ident: str) -> Node:
    node_id = as_uuid(ident)
    node = Node.get_or_none(Node.id == node_id if node_id else Node.name == ident)
    if node is None:
        raise NotFound(f"Node {ident} could not be found.")
    return node


@blueprint.post("/v1/heartbeat/<ident>")
@public
def heartbeat(ident):
    body = validation.json_body()
    schemas.check(body, schemas.HEARTBEAT)
    node = _node_by_ident(ident)
    token = body.get("agent_token")
    if token is None:
        raise BadRequest("Agent token is required for heartbeat processing.")
    expected = (node.driver_internal_info or {}).get(TOKEN_KEY)
    if not expected or not hmac.compare_digest(token_hash(token), expected):
        LOG.warning("heartbeat for node %s with an invalid agent token", node.id)
        raise Unauthorized("Invalid or missing agent token received.")
    callback_url = body.get("callback_url") or ""
    if callback_url and not callback_url.startswith(("http://", "https://")):
        raise BadRequest("An issue with the supplied \"callback_url\" has been detected.")
    if body.get("agent_status") is not None and body["agent_status"] not in AGENT_STATUSES:
        raise BadRequest(f"Agent status is invalid. Valid states are "
                         f"{','.join(AGENT_STATUSES)}.")
    payload = {key: value for key, value in body.items() if key != "agent_token"}
    command = ask_conductor(node, lambda: conductor().heartbeat(node.id, payload))
    return respond({"command": command}, 202)


def _node_for_inventory(inventory: dict, node_uuid: str | None) -> Node:
    """The node an inventory describes: by its MACs (ports), else by its BMC address."""
    if node_uuid:
        if as_uuid(node_uuid) is None:
            raise BadRequest(f"Expected a UUID but received {node_uuid}.")
        return _node_by_ident(node_uuid)
    macs = _valid_macs(iface.get("mac_address") for iface in inventory["interfaces"])
    bmc = {address for address in (inventory.get("bmc_address"),
                                   inventory.get("bmc_v6address"))
           if address and address not in ("0.0.0.0", "::")}
    if not macs and not bmc:
        raise BadRequest("No lookup information provided")
    found = _nodes_with_ports(macs)
    if not found and bmc:
        found = [node for node in Node.select()
                 if (node.driver_info or {}).get("ipmi_address") in bmc]
    if len(found) > 1:
        raise NotFound(f"Multiple nodes match MACs {', '.join(macs)}: "
                       f"{', '.join(n.id for n in found)}.")
    if not found:
        raise NotFound(f"No node has a port with MAC {', '.join(macs) or '-'} or BMC address "
                       f"{', '.join(sorted(bmc)) or '-'}.")
    return found[0]


@blueprint.post("/v1/continue_inspection")
@public
def continue_inspection():
    body = validation.json_body()
    schemas.check(body, schemas.CONTINUE_INSPECTION)
    node = _node_for_inventory(body["inventory"], request.args.get("node_uuid"))
    if node.provision_state not in INSPECTION_STATES:
        raise Conflict(f"Node {node.id} is not being inspected (provision state "
                       f"\"{node.provision_state}\"); start inspection with the inspect verb.")
    ask_conductor(node, lambda: conductor().continue_inspection(node.id, body["inventory"]))
    return respond({"uuid": node.id}, 202)
