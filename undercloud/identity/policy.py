"""Keystone's default policy for every identity action, and enforce() for the routes.

The rules are Keystone's current defaults (keystone/common/policies/*.py), written with
our credential names: Keystone's ``token.domain.id`` is ``domain_id`` (a domain-scoped
token) and ``token.project.domain.id`` is ``project_domain_id``. Targets are flattened
the way Keystone does it: ``{"user": {"id": ...}}`` is checked as ``%(target.user.id)s``,
and the URL's own arguments (``user_id``, ``project_id``, ...) are there as they are.
"""
from flask import g, request

from undercloud.common.errors import Forbidden
from undercloud.common.policy import Enforcer

ADMIN = "rule:admin_required"
SYSTEM_READER = "role:reader and system_scope:all"
ADMIN_OR_SYSTEM_READER = f"{ADMIN} or ({SYSTEM_READER})"
ANYONE = ""

# Projects (keystone/common/policies/project.py).
_PROJECT_USER = (f"({ADMIN}) or ({SYSTEM_READER}) or "
                 "(role:reader and domain_id:%(target.project.domain_id)s and "
                 "not None:%(target.project.domain_id)s) or "
                 "project_id:%(target.project.id)s")
_PROJECT_MANAGER = (f"({ADMIN}) or (role:manager and domain_id:%(target.project.domain_id)s and "
                    "not None:%(target.project.domain_id)s)")
_PROJECTS_READER = (f"({ADMIN}) or ({SYSTEM_READER}) or "
                    "(role:reader and domain_id:%(target.domain_id)s)")
_USER_PROJECTS_READER = (f"({ADMIN}) or ({SYSTEM_READER}) or "
                         "(role:reader and domain_id:%(target.user.domain_id)s) or "
                         "user_id:%(target.user.id)s")

# Users (keystone/common/policies/user.py).
_USER_READER = (f"({ADMIN}) or ({SYSTEM_READER}) or "
                "(role:reader and domain_id:%(target.user.domain_id)s) or "
                "user_id:%(target.user.id)s")
_USERS_READER = (f"({ADMIN}) or ({SYSTEM_READER}) or "
                 "(role:reader and domain_id:%(target.domain_id)s)")
_USER_MANAGER = f"({ADMIN}) or (role:manager and domain_id:%(target.user.domain_id)s)"

# Domains (keystone/common/policies/domain.py).
_DOMAIN_USER = (f"{ADMIN} or (role:reader and system_scope:all) or "
                "domain_id:%(target.domain.id)s or project_domain_id:%(target.domain.id)s")
_DOMAINS_READER = f"{ADMIN_OR_SYSTEM_READER} or (role:reader and domain_id:%(target.domain.id)s)"

# Groups (keystone/common/policies/group.py).
_GROUP_READER = (f"({ADMIN}) or (role:reader and system_scope:all) or "
                 "(role:reader and domain_id:%(target.group.domain_id)s)")
_USER_GROUPS_READER = (f"({ADMIN}) or (role:reader and system_scope:all) or "
                       "(role:reader and domain_id:%(target.user.domain_id)s) or "
                       "user_id:%(user_id)s")
_GROUP_USER_READER = (f"({ADMIN}) or (role:reader and system_scope:all) or "
                      "(role:reader and domain_id:%(target.group.domain_id)s and "
                      "domain_id:%(target.user.domain_id)s)")
_GROUP_MANAGER = f"({ADMIN}) or (role:manager and domain_id:%(target.group.domain_id)s)"
_GROUP_USER_MANAGER = (f"({ADMIN}) or (role:manager and domain_id:%(target.group.domain_id)s "
                       "and domain_id:%(target.user.domain_id)s)")

# Roles (keystone/common/policies/role.py).
_ROLE_READER = (f"({ADMIN_OR_SYSTEM_READER}) or "
                "(role:manager and rule:domain_managed_target_role)")
# Keystone's "not domain_id:None" (a domain-scoped token): routes pass the token's domain as target.
_ROLES_READER = f"({ADMIN_OR_SYSTEM_READER}) or (role:manager and domain_id:%(target.domain_id)s)"

# Grants (keystone/common/policies/grant.py).
_MATCHES_ROLE = "domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s"


def _grants_for(role):
    pairs = [("user", "project.domain_id"), ("user", "domain.id"),
             ("group", "project.domain_id"), ("group", "domain.id")]
    return " or ".join(f"(role:{role} and domain_id:%(target.{actor}.domain_id)s and "
                       f"domain_id:%(target.{scope})s)" for actor, scope in pairs)


_GRANT_READER = (f"({ADMIN}) or (({SYSTEM_READER}) or ({_grants_for('reader')}) and "
                 f"({_MATCHES_ROLE}))")
_GRANTS_READER = f"({ADMIN}) or (({SYSTEM_READER}) or {_grants_for('reader')})"
_GRANT_MANAGER = (f"({ADMIN}) or ({_grants_for('admin')}) and ({_MATCHES_ROLE}) or "
                  f"({_grants_for('manager')}) and rule:domain_managed_target_role")

# Role assignments (keystone/common/policies/role_assignment.py).
_ASSIGNMENTS_READER = (f"({ADMIN}) or ({SYSTEM_READER}) or "
                       "(role:reader and domain_id:%(target.domain_id)s)")

RULES = {
    "admin_required": "role:admin or is_admin:1",
    "service_role": "role:service",
    "service_or_admin": "rule:admin_required or rule:service_role",
    "owner": "user_id:%(user_id)s",
    "admin_or_owner": "rule:admin_required or rule:owner",
    "domain_managed_target_role": ("'manager':%(target.role.name)s or "
                                   "'member':%(target.role.name)s or "
                                   "'reader':%(target.role.name)s"),

    "identity:get_domain": _DOMAIN_USER,
    "identity:list_domains": _DOMAINS_READER,
    "identity:create_domain": ADMIN,
    "identity:update_domain": ADMIN,
    "identity:delete_domain": ADMIN,

    "identity:get_project": _PROJECT_USER,
    "identity:list_projects": _PROJECTS_READER,
    "identity:list_user_projects": _USER_PROJECTS_READER,
    "identity:create_project": _PROJECT_MANAGER,
    "identity:update_project": _PROJECT_MANAGER,
    "identity:delete_project": _PROJECT_MANAGER,
    "identity:list_project_tags": _PROJECT_USER,
    "identity:get_project_tag": _PROJECT_USER,
    "identity:update_project_tags": _PROJECT_MANAGER,
    "identity:create_project_tag": _PROJECT_MANAGER,
    "identity:delete_project_tags": _PROJECT_MANAGER,
    "identity:delete_project_tag": _PROJECT_MANAGER,

    "identity:get_user": _USER_READER,
    "identity:list_users": _USERS_READER,
    "identity:list_projects_for_user": ANYONE,
    "identity:list_domains_for_user": ANYONE,
    "identity:create_user": _USER_MANAGER,
    "identity:update_user": _USER_MANAGER,
    "identity:delete_user": _USER_MANAGER,

    "identity:get_group": _GROUP_READER,
    "identity:list_groups": _GROUP_READER,
    "identity:list_groups_for_user": _USER_GROUPS_READER,
    "identity:create_group": _GROUP_MANAGER,
    "identity:update_group": _GROUP_MANAGER,
    "identity:delete_group": _GROUP_MANAGER,
    "identity:list_users_in_group": _GROUP_READER,
    "identity:check_user_in_group": _GROUP_USER_READER,
    "identity:add_user_to_group": _GROUP_USER_MANAGER,
    "identity:remove_user_from_group": _GROUP_USER_MANAGER,

    "identity:get_role": _ROLE_READER,
    "identity:list_roles": _ROLES_READER,
    "identity:create_role": ADMIN,
    "identity:update_role": ADMIN,
    "identity:delete_role": ADMIN,
    "identity:get_domain_role": ADMIN_OR_SYSTEM_READER,
    "identity:list_domain_roles": ADMIN_OR_SYSTEM_READER,
    "identity:create_domain_role": ADMIN,
    "identity:update_domain_role": ADMIN,
    "identity:delete_domain_role": ADMIN,

    "identity:get_implied_role": ADMIN_OR_SYSTEM_READER,
    "identity:list_implied_roles": ADMIN_OR_SYSTEM_READER,
    "identity:check_implied_role": ADMIN_OR_SYSTEM_READER,
    "identity:list_role_inference_rules": ADMIN_OR_SYSTEM_READER,
    "identity:create_implied_role": ADMIN,
    "identity:delete_implied_role": ADMIN,

    "identity:check_grant": _GRANT_READER,
    "identity:list_grants": _GRANTS_READER,
    "identity:create_grant": _GRANT_MANAGER,
    "identity:revoke_grant": _GRANT_MANAGER,
    "identity:list_system_grants_for_user": ADMIN_OR_SYSTEM_READER,
    "identity:check_system_grant_for_user": ADMIN_OR_SYSTEM_READER,
    "identity:create_system_grant_for_user": ADMIN,
    "identity:revoke_system_grant_for_user": ADMIN,
    "identity:list_system_grants_for_group": ADMIN_OR_SYSTEM_READER,
    "identity:check_system_grant_for_group": ADMIN_OR_SYSTEM_READER,
    "identity:create_system_grant_for_group": ADMIN,
    "identity:revoke_system_grant_for_group": ADMIN,

    "identity:list_role_assignments": _ASSIGNMENTS_READER,
    "identity:list_role_assignments_for_tree": _ASSIGNMENTS_READER,

    "identity:get_region": ANYONE,
    "identity:list_regions": ANYONE,
    "identity:create_region": ADMIN,
    "identity:update_region": ADMIN,
    "identity:delete_region": ADMIN,

    "identity:get_service": ADMIN_OR_SYSTEM_READER,
    "identity:list_services": ADMIN_OR_SYSTEM_READER,
    "identity:create_service": ADMIN,
    "identity:update_service": ADMIN,
    "identity:delete_service": ADMIN,

    "identity:get_endpoint": ADMIN_OR_SYSTEM_READER,
    "identity:list_endpoints": ADMIN_OR_SYSTEM_READER,
    "identity:create_endpoint": ADMIN,
    "identity:update_endpoint": ADMIN,
    "identity:delete_endpoint": ADMIN,
}

ENFORCER = Enforcer(RULES)

# oslo.policy compares a literal kind ('manager':%(x)s, None:%(x)s) with the target value;
# common/policy looks every kind up in the credentials, so each literal stands for itself there.
_LITERALS = {"'manager'": "manager", "'member'": "member", "'reader'": "reader", "None": "None"}


def _flatten(prefix: str, value, into: dict):
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, into)
    else:
        into[prefix] = value


def allowed(action: str, target: dict | None = None, context=None) -> bool:
    """Whether the caller may do `action` on `target` ({"user": {...}, "domain_id": ...})."""
    context = context or g.context
    attributes = dict(request.view_args or {})
    _flatten("target", target or {}, attributes)
    return ENFORCER.allowed(action, {**context.credentials(), **_LITERALS}, attributes)


def enforce(action: str, target: dict | None = None):
    """Raise 403 naming the action unless the caller may do it, as Keystone words it."""
    if not allowed(action, target):
        raise Forbidden(f"You are not authorized to perform the requested action: {action}.")
