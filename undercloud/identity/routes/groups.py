"""Identity routes: groups (/v3/groups) and their members.

A user removed from a group loses the roles the group gave them, so their tokens are
revoked; deleting a group that held roles revokes the tokens of all its members.
"""
import peewee
from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import BadRequest, NotFound
from undercloud.common.validation import validate
from undercloud.identity import lookup, policy, revocation, views
from undercloud.identity.models import (DEFAULT_DOMAIN_ID, Group, GroupMembership,
                                        RoleAssignment, User)
from undercloud.identity.routes import users as user_routes

blueprint = Blueprint("identity_groups", __name__)

NAME = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"[\S]+"}
_FIELDS = {"name": NAME, "domain_id": {"type": "string"},
           "description": {"type": ["string", "null"]}}
CREATE = {"type": "object", "required": ["group"], "additionalProperties": False,
          "properties": {"group": {"type": "object", "required": ["name"],
                                   "properties": _FIELDS}}}
UPDATE = {"type": "object", "required": ["group"], "additionalProperties": False,
          "properties": {"group": {"type": "object", "minProperties": 1,
                                   "properties": {**_FIELDS, "id": {"type": "string"}}}}}


def _extra(body: dict, current: dict | None = None) -> dict:
    extra = dict(current or {})
    extra.update({k: v for k, v in body.items() if k not in _FIELDS and k not in views.RESERVED})
    return extra


def _target(group: Group | None, group_id: str | None = None) -> dict:
    if group is None:
        return {"group": {"id": group_id}} if group_id else {}
    return {"group": {"id": group.id, "domain_id": group.domain_id, "name": group.name}}


def find_for(action: str, group_id: str, user_id: str | None = None):
    """The group (and user), after the caller passed `action` (403 before 404, as Keystone)."""
    group = Group.get_or_none(Group.id == group_id)
    target = _target(group, group_id)
    user = None
    if user_id is not None:
        user = User.get_or_none(User.id == user_id)
        target.update(user_routes.target(user, user_id))
    policy.enforce(action, target)
    if group is None:
        lookup.get_group(group_id)
    if user_id is not None and user is None:
        lookup.get_user(user_id)
    return group, user


@blueprint.post("/v3/groups")
@validate(CREATE)
def create_group():
    body = g.body["group"]
    domain_id = body.get("domain_id") or g.context.domain_id or DEFAULT_DOMAIN_ID
    policy.enforce("identity:create_group", {"group": {**body, "domain_id": domain_id}})
    name = body["name"].strip()
    try:
        with db.transaction():
            lookup.get_domain(domain_id)
            if Group.get_or_none(Group.domain == domain_id, Group.name == name):
                raise lookup.duplicate("group", name, domain_id)
            group = Group.create(name=name, domain=domain_id,
                                 description=body.get("description") or "", extra=_extra(body))
    except peewee.IntegrityError:
        raise lookup.duplicate("group", name, domain_id) from None
    return {"group": views.group(group)}, 201


@blueprint.get("/v3/groups")
def list_groups():
    context = g.context
    policy.enforce("identity:list_groups",
                   {"group": {"domain_id": context.domain_id}} if context.domain_id else None)
    groups = Group.select().order_by(Group.name)
    if context.domain_id:
        groups = groups.where(Group.domain == context.domain_id)
    return views.collection("groups", [views.group(gr) for gr in groups],
                            filters=("domain_id", "name"))


@blueprint.get("/v3/groups/<group_id>")
def show_group(group_id):
    group, _ = find_for("identity:get_group", group_id)
    return {"group": views.group(group)}


@blueprint.patch("/v3/groups/<group_id>")
@validate(UPDATE)
def update_group(group_id):
    find_for("identity:update_group", group_id)
    update = g.body["group"]
    if "id" in update and update["id"] != group_id:
        raise BadRequest("Cannot change ID")
    try:
        with db.transaction():
            group = lookup.get_group(group_id)
            if "domain_id" in update and update["domain_id"] != group.domain_id:
                raise BadRequest("Cannot change Domain ID")
            if "name" in update:
                name = update["name"].strip()
                if name != group.name and Group.get_or_none(
                        Group.domain == group.domain_id, Group.name == name):
                    raise lookup.duplicate("group", name, group.domain_id)
                group.name = name
            if "description" in update:
                group.description = update["description"] or ""
            group.extra = _extra(update, group.extra)
            group.save()
    except peewee.IntegrityError:
        raise lookup.duplicate("group", update.get("name")) from None
    return {"group": views.group(group)}


@blueprint.delete("/v3/groups/<group_id>")
def delete_group(group_id):
    find_for("identity:delete_group", group_id)
    A = RoleAssignment
    with db.transaction():
        group = lookup.get_group(group_id)
        members = [m.user_id for m in GroupMembership.select(GroupMembership.user)
                   .where(GroupMembership.group == group.id)]
        had_roles = A.delete().where(
            A.actor_id == group.id,
            A.type.in_([A.GROUP_PROJECT, A.GROUP_DOMAIN, A.GROUP_SYSTEM])).execute()
        group.delete_instance()  # memberships cascade
    if had_roles:
        # The members lose what the group gave them.
        for user_id in members:
            revocation.revoke(user_id=user_id)
    return "", 204


@blueprint.get("/v3/groups/<group_id>/users")
def list_group_users(group_id):
    group, _ = find_for("identity:list_users_in_group", group_id)
    users = (User.select().join(GroupMembership, on=(GroupMembership.user == User.id))
             .where(GroupMembership.group == group.id).order_by(User.name))
    refs = [views.user(u) for u in user_routes.password_expiry_filter(list(users))]
    return views.collection("users", refs, filters=("domain_id", "enabled", "name"))


def _not_member(user_id: str, group_id: str) -> NotFound:
    return NotFound(f"User '{user_id}' not found in group '{group_id}'")


@blueprint.put("/v3/groups/<group_id>/users/<user_id>")
def add_group_user(group_id, user_id):
    find_for("identity:add_user_to_group", group_id, user_id)
    with db.transaction():
        group, user = lookup.get_group(group_id), lookup.get_user(user_id)
        if not GroupMembership.select().where(GroupMembership.group == group.id,
                                              GroupMembership.user == user.id).exists():
            GroupMembership.create(group=group, user=user)
    revocation.flush_token_cache()  # the member's live tokens gain the group's roles now
    return "", 204


@blueprint.get("/v3/groups/<group_id>/users/<user_id>")
def check_group_user(group_id, user_id):
    group, user = find_for("identity:check_user_in_group", group_id, user_id)
    if not GroupMembership.select().where(GroupMembership.group == group.id,
                                          GroupMembership.user == user.id).exists():
        raise _not_member(user_id, group_id)
    return "", 204


@blueprint.delete("/v3/groups/<group_id>/users/<user_id>")
def remove_group_user(group_id, user_id):
    find_for("identity:remove_user_from_group", group_id, user_id)
    with db.transaction():
        removed = GroupMembership.delete().where(GroupMembership.group == group_id,
                                                 GroupMembership.user == user_id).execute()
    if not removed:
        raise _not_member(user_id, group_id)
    revocation.revoke(user_id=user_id)
    return "", 204


@blueprint.get("/v3/users/<user_id>/groups")
def list_user_groups(user_id):
    user = User.get_or_none(User.id == user_id)
    policy.enforce("identity:list_groups_for_user", user_routes.target(user, user_id))
    if user is None:
        lookup.get_user(user_id)
    groups = (Group.select().join(GroupMembership, on=(GroupMembership.group == Group.id))
              .where(GroupMembership.user == user.id).order_by(Group.name))
    if g.context.domain_id:
        groups = groups.where(Group.domain == g.context.domain_id)
    refs = [{**views.group(gr), "membership_expires_at": None} for gr in groups]
    return views.collection("groups", refs, filters=("name",))
