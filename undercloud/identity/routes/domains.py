"""Identity routes: domains (/v3/domains), and the domain rows the projects API shares.

Keystone stores a domain as a project acting as a domain, so /v3/projects can also
create, show, update and delete domains (is_domain true); both APIs use the helpers
here. A domain must be disabled before it can be deleted; deleting it deletes
everything it owns (projects, users, groups, domain roles) and every grant on or by those.
"""
import re

import peewee
from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, Forbidden
from undercloud.common.validation import validate
from undercloud.identity import lookup, policy, revocation, views
from undercloud.identity.models import Domain, Group, Project, Role, RoleAssignment, User

blueprint = Blueprint("identity_domains", __name__)

# Keystone's resource schema, shared by domains, projects and roles.
NAME = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"[\S]+"}
TAG = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"}
TAGS = {"type": "array", "items": TAG, "maxItems": 80, "uniqueItems": True}
RESOURCE_OPTIONS = {"type": "object", "additionalProperties": False,
                    "properties": {"immutable": {"type": ["boolean", "null"]}}}

FIELDS = {"name": NAME, "description": {"type": ["string", "null"]},
          "enabled": {"type": "boolean"}, "tags": TAGS, "options": RESOURCE_OPTIONS}
CREATE = {"type": "object", "required": ["domain"], "additionalProperties": False,
          "properties": {"domain": {
              "type": "object", "required": ["name"],
              "properties": {**FIELDS, "explicit_domain_id": {"type": "string"}}}}}
UPDATE = {"type": "object", "required": ["domain"], "additionalProperties": False,
          "properties": {"domain": {"type": "object", "minProperties": 1,
                                    "properties": FIELDS}}}
_UUID_HEX = re.compile(r"^[0-9a-f]{32}$")
# Attributes of the project form that a domain does not keep.
_PROJECT_ONLY = {"explicit_domain_id", "is_domain", "domain_id", "parent_id"}


def _duplicate(name: str) -> Conflict:
    # Keystone stores domains as projects acting as domains, hence its wording.
    return Conflict("Conflict occurred attempting to store project - it is not permitted to "
                    f"have two projects acting as domains with the same name: {name}.")


def _extra(body: dict, current: dict | None = None) -> dict:
    extra = dict(current or {})
    extra.update({k: v for k, v in body.items()
                  if k not in FIELDS and k not in views.RESERVED and k not in _PROJECT_ONLY})
    return extra


def add(body: dict, domain_id: str | None = None) -> Domain:
    """A new domain from a domain (or is_domain project) body; 409 when the name is taken."""
    name = body["name"].strip()
    extra = _extra(body)
    if body.get("options"):
        extra["options"] = lookup.merge_options({}, body["options"])
    try:
        with db.transaction():
            if Domain.get_or_none(Domain.name == name):
                raise _duplicate(name)
            if domain_id and Domain.get_or_none(Domain.id == domain_id):
                raise Conflict("Conflict occurred attempting to store project - Duplicate "
                               f"entry found with ID {domain_id}.")
            return Domain.create(id=domain_id or db.new_id(), name=name,
                                 description=body.get("description") or "",
                                 enabled=body.get("enabled", True),
                                 tags=body.get("tags") or [], extra=extra)
    except peewee.IntegrityError:
        raise _duplicate(name) from None


def change(domain_id: str, update: dict) -> Domain:
    """Apply an update; disabling the domain revokes every token scoped in it."""
    disabled = False
    try:
        with db.transaction():
            domain = lookup.get_domain(domain_id)
            extra = dict(domain.extra or {})
            lookup.check_update_allowed("domain", domain.id, extra.get("options"), update)
            if "name" in update:
                name = update["name"].strip()
                if name != domain.name and Domain.get_or_none(Domain.name == name):
                    raise _duplicate(name)
                domain.name = name
            if "description" in update:
                domain.description = update["description"] or ""
            if "tags" in update:
                domain.tags = update["tags"] or []
            if "enabled" in update:
                disabled = domain.enabled and not update["enabled"]
                domain.enabled = update["enabled"]
            extra = _extra(update, extra)
            if "options" in update:
                extra["options"] = lookup.merge_options(extra.get("options"), update["options"])
            domain.extra = extra
            domain.save()
    except peewee.IntegrityError:
        raise _duplicate(update.get("name")) from None
    if disabled:
        # Tokens scoped to the domain or its projects must stop working now.
        revocation.revoke(domain_id=domain.id)
    return domain


def remove(domain_id: str, enabled_error):
    """Delete a disabled domain and all it owns; `enabled_error` is raised while it is enabled."""
    with db.transaction():
        domain = lookup.get_domain(domain_id)
        lookup.check_delete_allowed("domain", domain.id, (domain.extra or {}).get("options"))
        if domain.enabled:
            # Disabling first stops a user deleting the domain their own token is in.
            raise enabled_error
        projects = [p.id for p in Project.select(Project.id).where(Project.domain == domain.id)]
        users = [u.id for u in User.select(User.id).where(User.domain == domain.id)]
        groups = [gr.id for gr in Group.select(Group.id).where(Group.domain == domain.id)]
        A = RoleAssignment
        A.delete().where(A.target_id.in_([domain.id, *projects]),
                         A.type.not_in([A.USER_SYSTEM, A.GROUP_SYSTEM])).execute()
        A.delete().where(A.actor_id.in_(users), A.type.startswith("User")).execute()
        A.delete().where(A.actor_id.in_(groups), A.type.startswith("Group")).execute()
        Role.delete().where(Role.domain_id == domain.id).execute()
        domain.delete_instance()  # projects, users, groups and memberships cascade
    revocation.revoke(domain_id=domain_id)


@blueprint.post("/v3/domains")
@validate(CREATE)
def create_domain():
    policy.enforce("identity:create_domain")
    body = g.body["domain"]
    domain_id = body.get("explicit_domain_id")
    if domain_id is not None and not _UUID_HEX.match(domain_id):
        raise BadRequest("Domain ID does not conform to required UUID format.")
    return {"domain": views.domain(add(body, domain_id))}, 201


@blueprint.get("/v3/domains")
def list_domains():
    context = g.context
    policy.enforce("identity:list_domains",
                   {"domain": {"id": context.domain_id}} if context.domain_id else None)
    domains = Domain.select().order_by(Domain.name)
    if context.domain_id:
        # A domain-scoped reader sees only their own domain.
        domains = domains.where(Domain.id == context.domain_id)
    return views.collection("domains", [views.domain(d) for d in domains],
                            filters=("name", "enabled"))


@blueprint.get("/v3/domains/<domain_id>")
def show_domain(domain_id):
    domain = Domain.get_or_none(Domain.id == domain_id)
    policy.enforce("identity:get_domain", {"domain": {"id": domain_id}})
    if domain is None:
        lookup.get_domain(domain_id)
    return {"domain": views.domain(domain)}


@blueprint.patch("/v3/domains/<domain_id>")
@validate(UPDATE)
def update_domain(domain_id):
    policy.enforce("identity:update_domain")
    return {"domain": views.domain(change(domain_id, g.body["domain"]))}


@blueprint.delete("/v3/domains/<domain_id>")
def delete_domain(domain_id):
    policy.enforce("identity:delete_domain")
    remove(domain_id, Forbidden("Cannot delete a domain that is enabled, please disable it "
                                "first."))
    return "", 204
