"""/v2.0/security-groups: create, list, show, update, delete.

Each project has one group named "default" (made on first need, see security.py): nobody may
make a second one or rename a group to it, and its project may not delete it. A new group
allows all egress, as Neutron's do.
"""
from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import Conflict
from undercloud.network import attributes, listing, notify, policy, quotas, views
from undercloud.network.attributes import Attribute, boolean, list_of, string
from undercloud.network.models import (DefaultSecurityGroup, PortSecurityGroup, SecurityGroup,
                                       SecurityGroupRule, Tag)
from undercloud.network.routes import config
from undercloud.network.routes.security_group_rules import find_group, render_rules
from undercloud.network.security import DEFAULT_NAME, ensure_default_group

blueprint = Blueprint("security_groups", __name__)

SECURITY_GROUP = {
    "name": Attribute(check=string()),
    "description": Attribute(check=string()),
    "stateful": Attribute(check=boolean),
    "tags": Attribute(put=False, check=list_of(string(), unique=True)),
}
KIND = "security_groups"   # the tag resource type


def render(groups: list) -> list[dict]:
    ids = [group.id for group in groups]
    tags = views.tags_by_id(KIND, ids)
    defaults = {row.security_group_id for row in DefaultSecurityGroup.select().where(
        DefaultSecurityGroup.security_group.in_(ids))} if ids else set()
    rules = {group_id: [] for group_id in ids}
    if ids:
        query = SecurityGroupRule.select().where(SecurityGroupRule.security_group.in_(ids)) \
            .order_by(SecurityGroupRule.created_at, SecurityGroupRule.id)
        for document in render_rules(list(query), defaults):
            rules[document["security_group_id"]].append(document)
    return [{**views.standard(group, tags[group.id]), "stateful": group.stateful,
             "shared": False, "security_group_rules": rules[group.id]} for group in groups]


def _shared(values):
    # No group is shared (there is no RBAC): shared=false matches every group, true none.
    wants_unshared = False in [listing.to_boolean(value) for value in values]
    return SecurityGroup.id.is_null(not wants_unshared)


SECURITY_GROUPS = listing.Collection(SecurityGroup, KIND, filters={
    **listing.standard_filters(SecurityGroup),
    "stateful": listing.boolean(SecurityGroup.stateful),
    "shared": _shared,
}, sort_keys=listing.standard_sort_keys(SecurityGroup))


def is_default(group: SecurityGroup) -> bool:
    return DefaultSecurityGroup.select().where(
        DefaultSecurityGroup.security_group == group.id).exists()


def _default_name_taken() -> Conflict:
    return Conflict("Default security group already exists.",
                    type="SecurityGroupDefaultAlreadyExists")


@blueprint.post("/v2.0/security-groups")
def create_security_group():
    values = attributes.parse("security_group", SECURITY_GROUP,
                              attributes.body("security_group"), creating=True)
    if values.get("name") == DEFAULT_NAME:
        raise _default_name_taken()
    project_id = policy.project_for_create(values)
    policy.enforce("create_security_group", {"project_id": project_id,
                                             "network_project_id": project_id})
    ensure_default_group(project_id)
    with db.transaction():
        quotas.check(config(), project_id, "security_group")
        group = SecurityGroup.create(project_id=project_id, name=values.get("name", ""),
                                     description=values.get("description", ""),
                                     stateful=values.get("stateful", True))
        for ethertype in ("IPv4", "IPv6"):
            SecurityGroupRule.create(project_id=project_id, security_group=group,
                                     direction="egress", ethertype=ethertype)
        for tag in values.get("tags", []):
            Tag.create(resource_type=KIND, resource_id=group.id, tag=tag)
    return views.show("security_group", render([group])[0], 201)


@blueprint.get("/v2.0/security-groups")
def list_security_groups():
    ensure_default_group(g.context.project_id)
    query = listing.where(SecurityGroup.select(), policy.owned(SecurityGroup))
    return listing.respond(SECURITY_GROUPS, query, render)


@blueprint.get("/v2.0/security-groups/<group_id>")
def show_security_group(group_id):
    return views.show("security_group", render([find_group(group_id)])[0])


@blueprint.put("/v2.0/security-groups/<group_id>")
def update_security_group(group_id):
    group = find_group(group_id)
    values = attributes.parse("security_group", SECURITY_GROUP,
                              attributes.body("security_group"), creating=False)
    policy.enforce("update_security_group", policy.target(group))
    if values.get("name") == DEFAULT_NAME and group.name != DEFAULT_NAME:
        raise _default_name_taken()
    if is_default(group) and values.get("name", DEFAULT_NAME) != DEFAULT_NAME:
        raise Conflict("Updating default security group not allowed.",
                       type="SecurityGroupCannotUpdateDefault")
    with db.transaction():
        group = SecurityGroup.get_by_id(group.id)
        for name in ("name", "description", "stateful"):
            if name in values:
                setattr(group, name, values[name])
        group.revision_number += 1
        group.save()
    notify.changed()
    return views.show("security_group", render([group])[0])


@blueprint.delete("/v2.0/security-groups/<group_id>")
def delete_security_group(group_id):
    group = find_group(group_id)
    policy.enforce("delete_security_group", policy.target(group))
    if is_default(group) and not g.context.is_admin:
        raise Conflict("Insufficient rights for removing default security group.",
                       type="SecurityGroupCannotRemoveDefault")
    with db.transaction():
        if PortSecurityGroup.select().where(
                PortSecurityGroup.security_group == group.id).exists():
            raise Conflict(f"Security Group {group.id} in use.", type="SecurityGroupInUse")
        # Rules elsewhere that admit this group's members go with it, as in Neutron.
        SecurityGroupRule.delete().where(
            (SecurityGroupRule.security_group == group.id)
            | (SecurityGroupRule.remote_group_id == group.id)).execute()
        DefaultSecurityGroup.delete().where(
            DefaultSecurityGroup.security_group == group.id).execute()
        Tag.delete().where(Tag.resource_type == KIND, Tag.resource_id == group.id).execute()
        SecurityGroup.delete().where(SecurityGroup.id == group.id).execute()
    notify.changed()
    return views.no_content()
