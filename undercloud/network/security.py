"""Each project's default security group, made on first need, exactly once.

Neutron's defaults: egress anywhere, ingress only from members of the same group, for IPv4
and IPv6. The DefaultSecurityGroup row (keyed by project) makes concurrent first requests
agree on one group: the loser of the insert race reads the winner's.
"""
import peewee

from undercloud import db
from undercloud.network.models import DefaultSecurityGroup, SecurityGroup, SecurityGroupRule

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"


def _default_rules(group: SecurityGroup) -> list[dict]:
    rules = []
    for ethertype in ("IPv4", "IPv6"):
        rules.append({"direction": "egress", "ethertype": ethertype})
        rules.append({"direction": "ingress", "ethertype": ethertype,
                      "remote_group_id": group.id})
    return rules


def default_group_of(project_id: str) -> SecurityGroup | None:
    row = DefaultSecurityGroup.get_or_none(DefaultSecurityGroup.id == project_id)
    return SecurityGroup.get_or_none(SecurityGroup.id == row.security_group_id) if row else None


def ensure_default_group(project_id: str) -> SecurityGroup | None:
    """The project's default group, created with its rules if missing (None without project)."""
    if not project_id:
        return None
    group = default_group_of(project_id)
    if group is not None:
        return group
    try:
        with db.transaction():
            group = SecurityGroup.create(project_id=project_id, name=DEFAULT_NAME,
                                         description=DEFAULT_DESCRIPTION)
            DefaultSecurityGroup.create(id=project_id, security_group=group)
            for rule in _default_rules(group):
                SecurityGroupRule.create(project_id=project_id, security_group=group, **rule)
    except peewee.IntegrityError:  # another request made it first
        return default_group_of(project_id)
    return group
