"""Neutron's per-project quotas: defaults from config (network.quota_<resource>), overrides in
the Quota table, usage counted live.

Call check() inside the write transaction that creates the resources: on SQLite BEGIN
IMMEDIATE lets one writer in at a time, on PostgreSQL an advisory lock per project does, so
two concurrent creates cannot both count themselves under the limit.
"""
import peewee

from undercloud import db
from undercloud.network import faults
from undercloud.network.models import (FloatingIP, Network, Port, Quota, Router, SecurityGroup,
                                       SecurityGroupRule, Subnet, SubnetPool)

# Resource name (as in Neutron's quota API) -> the table that holds the project's rows.
RESOURCES = {"network": Network, "subnet": Subnet, "subnetpool": SubnetPool, "port": Port,
             "router": Router, "floatingip": FloatingIP, "security_group": SecurityGroup,
             "security_group_rule": SecurityGroupRule}
UNLIMITED = -1


def defaults(config) -> dict[str, int]:
    return {name: config["network"][f"quota_{name}"] for name in RESOURCES}


def limits(config, project_id: str) -> dict[str, int]:
    """The effective limit of every resource: the project's override or the default."""
    values = defaults(config)
    for row in Quota.select().where(Quota.project_id == project_id):
        if row.resource in values:
            values[row.resource] = row.limit
    return values


def usage(project_id: str) -> dict[str, int]:
    return {name: model.select().where(model.project_id == project_id).count()
            for name, model in RESOURCES.items()}


def has_overrides(project_id: str) -> bool:
    return Quota.select().where(Quota.project_id == project_id).exists()


def projects_with_overrides() -> list[str]:
    query = Quota.select(Quota.project_id).distinct().order_by(Quota.project_id)
    return [row.project_id for row in query]


def _lock_project(project_id: str):
    if isinstance(db.database.obj, peewee.PostgresqlDatabase):
        db.database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))",
                                (f"network-quota:{project_id}",))


def check(config, project_id: str, resource: str, count: int = 1):
    """409 OverQuota unless the project may hold `count` more of `resource`.

    Call inside the transaction that creates them (see the module docstring).
    """
    if not project_id or count <= 0:
        return
    limit = limits(config, project_id)[resource]
    if limit == UNLIMITED:
        return
    _lock_project(project_id)
    model = RESOURCES[resource]
    used = model.select().where(model.project_id == project_id).count()
    if used + count > limit:
        raise faults.over_quota([resource])


def update(project_id: str, values: dict[str, int]):
    """Set the project's limits for the named resources."""
    with db.transaction():
        for resource, limit in values.items():
            (Quota.insert(project_id=project_id, resource=resource, limit=limit)
             .on_conflict(conflict_target=[Quota.project_id, Quota.resource],
                          update={Quota.limit: limit})
             .execute())


def reset(project_id: str):
    """Back to the defaults."""
    with db.transaction():
        Quota.delete().where(Quota.project_id == project_id).execute()
