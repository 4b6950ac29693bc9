"""Who may do what in compute: Nova's default rules, and which servers a caller can see.

As in Nova, a server of another project answers 404 to anyone but an admin (Nova's database
queries are project-scoped); a server the caller sees but may not change answers 403.
"""
from flask import g

from undercloud.common.errors import Forbidden, NotFound
from undercloud.common.policy import Enforcer
from undercloud.compute.models import Instance

ADMIN = "rule:context_is_admin"
PROJECT_MEMBER = "rule:context_is_admin or (rule:member and project_id:%(project_id)s)"
PROJECT_READER = "rule:context_is_admin or (rule:reader and project_id:%(project_id)s)"
OWNER_USER = "rule:context_is_admin or user_id:%(user_id)s"

RULES = {
    "context_is_admin": "role:admin",
    # Keystone's default roles imply each other: admin > member > reader.
    "reader": "role:reader or role:member or role:admin",
    "member": "role:member or role:admin",
    "any": "@",
    "servers:index": PROJECT_READER,
    "servers:index:get_all_tenants": ADMIN,
    "servers:show": PROJECT_READER,
    "servers:show:host_status": ADMIN,
    "servers:show:extended_attributes": ADMIN,
    "servers:create": PROJECT_MEMBER,
    "servers:create:forced_host": ADMIN,
    "servers:update": PROJECT_MEMBER,
    "servers:delete": PROJECT_MEMBER,
    "servers:action": PROJECT_MEMBER,
    "servers:unlock:unlock_override": ADMIN,
    "servers:reset_state": ADMIN,
    "servers:diagnostics": ADMIN,
    "servers:create_backup": PROJECT_MEMBER,
    "servers:console_output": PROJECT_MEMBER,
    "server-metadata:index": PROJECT_READER,
    "server-metadata:update": PROJECT_MEMBER,
    "os-attach-interfaces:list": PROJECT_READER,
    "os-attach-interfaces:show": PROJECT_READER,
    "os-attach-interfaces:create": PROJECT_MEMBER,
    "os-attach-interfaces:delete": PROJECT_MEMBER,
    "os-security-groups:get": PROJECT_READER,
    "os-security-groups:show": PROJECT_READER,
    "os-security-groups:create": PROJECT_MEMBER,
    "os-security-groups:update": PROJECT_MEMBER,
    "os-security-groups:delete": PROJECT_MEMBER,
    "os-security-groups:list": PROJECT_READER,
    "os-security-groups:add": PROJECT_MEMBER,
    "os-security-groups:remove": PROJECT_MEMBER,
    "server-tags:index": PROJECT_READER,
    "server-tags:update": PROJECT_MEMBER,
    "instance-actions:list": PROJECT_READER,
    "instance-actions:events": PROJECT_READER,
    "instance-actions:events:details": ADMIN,
    "flavors:index": "rule:any",
    "flavor-manage:create": ADMIN,
    "flavor-manage:update": ADMIN,
    "flavor-manage:delete": ADMIN,
    "flavor-extra-specs:index": "rule:reader",
    "flavor-extra-specs:manage": ADMIN,
    "flavor-access:list": ADMIN,
    "flavor-access:manage": ADMIN,
    "keypairs:index": OWNER_USER,
    "keypairs:create": OWNER_USER,
    "keypairs:show": OWNER_USER,
    "keypairs:delete": OWNER_USER,
    "limits": "rule:any",
    "limits:other_project": ADMIN,
    "quota-sets:show": PROJECT_READER,
    "quota-sets:defaults": "rule:any",
    "quota-sets:update": ADMIN,
    "quota-sets:delete": ADMIN,
    "quota-class-sets:show": ADMIN,
    "quota-class-sets:update": ADMIN,
    "availability-zone:list": "rule:any",
    "availability-zone:detail": ADMIN,
    "hypervisors": ADMIN,
    "hosts": ADMIN,
    "instance-usage-audit-log": ADMIN,
    "simple-tenant-usage:list": ADMIN,
    "simple-tenant-usage:show": PROJECT_READER,
    "services": ADMIN,
    "server-external-events": ADMIN,
    "server-groups:index": PROJECT_READER,
    "server-groups:index:all_projects": ADMIN,
    "server-groups:show": PROJECT_READER,
    "server-groups:create": PROJECT_MEMBER,
    "server-groups:delete": PROJECT_MEMBER,
}

ENFORCER = Enforcer(RULES)


def allowed(action: str, **target) -> bool:
    context = g.context
    values = {"project_id": context.project_id, "user_id": context.user_id, **target}
    return ENFORCER.allowed(action, context.credentials(), values)


def enforce(action: str, **target):
    """403 in Nova's words unless the caller may do `action` on `target`."""
    if not allowed(action, **target):
        raise Forbidden(f"Policy doesn't allow os_compute_api:{action} to be performed.")


def find_server(server_id: str, deleted: bool = False) -> Instance:
    """The server the caller asked for, or 404 when it is gone or another project's."""
    query = Instance.select().where(Instance.id == server_id)
    if not deleted:
        query = query.where(Instance.deleted == False)  # noqa: E712 (peewee expression)
    server = query.first()
    if server is None or not (g.context.is_admin or server.project_id == g.context.project_id):
        raise NotFound(f"Instance {server_id} could not be found.")
    return server
