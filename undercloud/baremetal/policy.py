"""Who may see and change nodes and ports: Ironic's default rules in this cloud's roles.

Ironic's "system" scope is the admin role here, so its SYSTEM_* rules read "rule:admin" and a
lessee's admin rights collapse into the admin's. A project reader sees the nodes its project
owns or leases; its members act on the nodes it owns. A node the caller may not see answers
404 (Ironic conceals it); one it sees but may not change answers 403. The agent endpoints
(lookup, heartbeat, continue_inspection) carry no token and have no rule.
"""
from flask import g

from undercloud.baremetal.models import Node
from undercloud.common.errors import Forbidden, NotFound
from undercloud.common.policy import Enforcer

ADMIN = "rule:admin"
PROJECT_READER = "rule:admin or (rule:reader and (rule:owner or rule:lessee))"
OWNER_MEMBER = "rule:admin or (rule:member and rule:owner)"

RULES = {
    "admin": "role:admin",
    # Keystone's default roles imply each other: admin > member > reader.
    "reader": "role:reader or role:member or role:admin",
    "member": "role:member or role:admin",
    "owner": "project_id:%(node.owner)s",
    "lessee": "project_id:%(node.lessee)s",
    "baremetal:node:create": ADMIN,
    "baremetal:node:list": "rule:reader",
    "baremetal:node:list_all": ADMIN,
    "baremetal:node:get": PROJECT_READER,
    "baremetal:node:update": OWNER_MEMBER,
    "baremetal:node:update:driver_info": ADMIN,
    "baremetal:node:update:driver": ADMIN,
    "baremetal:node:update:owner": ADMIN,
    "baremetal:node:update:lessee": OWNER_MEMBER,
    "baremetal:node:update:instance_uuid": OWNER_MEMBER,
    "baremetal:node:update:interfaces": ADMIN,
    "baremetal:node:update:conductor_group": ADMIN,
    "baremetal:node:update:properties": OWNER_MEMBER,
    "baremetal:node:delete": ADMIN,
    "baremetal:node:validate": OWNER_MEMBER,
    "baremetal:node:set_maintenance": OWNER_MEMBER,
    "baremetal:node:clear_maintenance": OWNER_MEMBER,
    "baremetal:node:get_boot_device": OWNER_MEMBER,
    "baremetal:node:set_boot_device": ADMIN,
    "baremetal:node:get_states": PROJECT_READER,
    "baremetal:node:set_power_state": OWNER_MEMBER,
    "baremetal:node:set_provision_state": OWNER_MEMBER,
    "baremetal:node:inventory:get": PROJECT_READER,
    "baremetal:port:get": PROJECT_READER,
    "baremetal:port:list": "rule:reader",
    "baremetal:port:list_all": ADMIN,
    "baremetal:port:create": ADMIN,
    "baremetal:port:update": ADMIN,
    "baremetal:port:delete": ADMIN,
    "baremetal:driver:get": ADMIN,
    "baremetal:driver:get_properties": ADMIN,
    "baremetal:conductor:get": ADMIN,
}

ENFORCER = Enforcer(RULES)


def _target(node: Node | None) -> dict:
    if node is None:
        return {}
    return {key: value for key, value in (("node.owner", node.owner),
                                          ("node.lessee", node.lessee)) if value}


def allowed(action: str, node: Node | None = None) -> bool:
    return ENFORCER.allowed(action, g.context.credentials(), _target(node))


def enforce(action: str, node: Node | None = None, ident: str | None = None):
    """403 naming the action; 404 instead when the caller may not even see the node."""
    if allowed(action, node):
        return
    if node is not None and not allowed("baremetal:node:get", node):
        raise NotFound(f"Node {ident or node.id} could not be found.")
    raise Forbidden(f"{action} is disallowed by policy")


def visible_nodes():
    """A condition on Node for the rows the caller may list, or None for all of them."""
    if allowed("baremetal:node:list_all"):
        return None
    project = g.context.project_id
    return (Node.owner == project) | (Node.lessee == project)
