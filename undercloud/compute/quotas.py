"""Nova's per-project quotas: defaults from config, overrides in QuotaLimit, usage counted live.

Counting happens inside the caller's write transaction (SQLite BEGIN IMMEDIATE), so two
concurrent creates cannot both squeeze under the limit.
"""
import peewee

from undercloud import db
from undercloud.common.errors import Forbidden
from undercloud.compute.models import (Instance, KeyPair, QuotaLimit, ServerGroup,
                                       ServerGroupMember)

# Resource -> config key (compute.quota_<key>); the network ones are fixed, as in Nova 2.36+.
RESOURCES = {"instances": "instances", "cores": "cores", "ram": "ram",
             "key_pairs": "key_pairs", "metadata_items": "metadata_items",
             "server_groups": "server_groups", "server_group_members": "server_group_members",
             "injected_files": "injected_files",
             "injected_file_content_bytes": "injected_file_content_bytes",
             "injected_file_path_bytes": "injected_file_path_length"}
NETWORK_RESOURCES = {"fixed_ips": -1, "floating_ips": 10, "security_groups": 10,
                     "security_group_rules": 20}


def lock_project(project_id: str):
    """Serialize quota checks of one project inside the caller's transaction.

    SQLite's BEGIN IMMEDIATE already lets one writer in at a time; PostgreSQL needs a lock,
    or two concurrent creates could both count themselves under the limit.
    """
    if isinstance(db.database.obj, peewee.PostgresqlDatabase):
        db.database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))",
                                (f"compute-quota:{project_id}",))


def class_project(name: str) -> str:
    """Where a quota class's limits live in QuotaLimit (Nova's 'default' class overrides config)."""
    return f"class:{name}"


def defaults(config) -> dict:
    section = config["compute"]
    values = {name: section[f"quota_{key}"] for name, key in RESOURCES.items()}
    rows = QuotaLimit.select().where(QuotaLimit.project_id == class_project("default"),
                                     QuotaLimit.user_id.is_null())
    values.update({row.resource: row.hard_limit for row in rows if row.resource in values})
    return values


def class_values(config) -> dict:
    """The 'default' quota class: compute defaults plus the network ones Nova kept until 2.50."""
    values = {**defaults(config), **NETWORK_RESOURCES}
    rows = QuotaLimit.select().where(QuotaLimit.project_id == class_project("default"),
                                     QuotaLimit.resource.in_(list(NETWORK_RESOURCES)))
    values.update({row.resource: row.hard_limit for row in rows})
    return values


def limits(config, project_id: str, user_id: str | None = None) -> dict:
    """The effective limit of every resource: per-user override, per-project, or default."""
    values = defaults(config)
    rows = QuotaLimit.select().where(QuotaLimit.project_id == project_id,
                                     QuotaLimit.user_id.is_null())
    values.update({row.resource: row.hard_limit for row in rows if row.resource in values})
    if user_id:
        rows = QuotaLimit.select().where(QuotaLimit.project_id == project_id,
                                         QuotaLimit.user_id == user_id)
        values.update({row.resource: row.hard_limit for row in rows if row.resource in values})
    return values


def usage(project_id: str, user_id: str | None = None) -> dict:
    """What the project holds now: servers, their cores and RAM, groups (and the user's keys)."""
    instances = cores = ram = 0
    for row in Instance.select(Instance.flavor).where(
            Instance.project_id == project_id, Instance.deleted == False,  # noqa: E712
            *([Instance.user_id == user_id] if user_id else [])):
        instances += 1
        cores += int((row.flavor or {}).get("vcpus", 0))
        ram += int((row.flavor or {}).get("memory_mb", 0))
    groups = ServerGroup.select().where(ServerGroup.project_id == project_id).count()
    used = {name: 0 for name in RESOURCES}
    used.update(instances=instances, cores=cores, ram=ram, server_groups=groups)
    if user_id:
        used["key_pairs"] = KeyPair.select().where(KeyPair.user_id == user_id).count()
    return used


def check_servers(config, project_id: str, user_id: str, flavor: dict, min_count: int,
                  max_count: int) -> int:
    """How many servers (min..max) fit the project's quota, or 403 in Nova's words."""
    lock_project(project_id)
    limit = limits(config, project_id, user_id)
    used = usage(project_id)
    per_server = {"instances": 1, "cores": int(flavor["vcpus"]),
                  "ram": int(flavor["memory_mb"])}
    allowed = max_count
    for resource, each in per_server.items():
        if limit[resource] < 0 or each == 0:
            continue
        room = (limit[resource] - used[resource]) // each
        allowed = min(allowed, max(room, 0))
    if allowed >= min_count:
        return allowed
    exceeded = [r for r, each in per_server.items()
                if limit[r] >= 0 and used[r] + each * min_count > limit[r]]
    resource = exceeded[0]
    raise Forbidden(f"Quota exceeded for {resource}: Requested {per_server[resource] * min_count}"
                    f", but already used {used[resource]} of {limit[resource]} {resource}")


def check_resize(config, project_id: str, old: dict, new: dict):
    """403 when growing a server's cores or RAM goes over the project's quota."""
    limit = limits(config, project_id)
    used = usage(project_id)
    for resource, key in (("cores", "vcpus"), ("ram", "memory_mb")):
        delta = int(new.get(key, 0)) - int(old.get(key, 0))
        if delta > 0 and 0 <= limit[resource] < used[resource] + delta:
            raise Forbidden(f"Quota exceeded for {resource}: Requested {delta}, but already "
                            f"used {used[resource]} of {limit[resource]} {resource}")


def check_count(config, project_id: str, resource: str, used: int, requested: int = 1,
                user_id: str | None = None):
    """403 when adding `requested` to `used` (counted under lock_project) goes over the limit."""
    limit = limits(config, project_id, user_id)[resource]
    if 0 <= limit < used + requested:
        raise Forbidden(f"Quota exceeded for {resource}: Requested {requested}, but already "
                        f"used {used} of {limit} {resource}")


def check_metadata(config, project_id: str, metadata: dict):
    limit = limits(config, project_id)["metadata_items"]
    if 0 <= limit < len(metadata):
        raise Forbidden(f"Quota exceeded for metadata_items: Maximum number of metadata items "
                        f"exceeds {limit}")


def check_group_members(config, group: ServerGroup, adding: int):
    used = ServerGroupMember.select().where(ServerGroupMember.group == group.id).count()
    limit = limits(config, group.project_id)["server_group_members"]
    if 0 <= limit < used + adding:
        raise Forbidden("Quota exceeded, too many servers in group")
