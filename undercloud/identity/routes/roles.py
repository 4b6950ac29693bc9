"""Identity routes: roles (/v3/roles), global or domain-specific, and implied roles.

A prior role implies others (admin implies member implies reader): whoever holds the
prior role holds the implied ones too. Deleting a role revokes the tokens of everyone
who held it.
"""
import peewee
from flask import Blueprint, g, request

from undercloud import db
from undercloud.common.errors import BadRequest, Forbidden
from undercloud.common.validation import validate
from undercloud.identity import lookup, policy, revocation, views
from undercloud.identity.models import GroupMembership, ImpliedRole, Role, RoleAssignment
from undercloud.identity.routes.domains import RESOURCE_OPTIONS

blueprint = Blueprint("identity_roles", __name__)

# Keystone's [assignment] prohibited_implied_role: no role may imply admin.
PROHIBITED_IMPLIED_ROLES = ("admin",)

NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"[\S]+"}
_FIELDS = {"name": NAME, "domain_id": {"type": ["string", "null"]},
           "description": {"type": ["string", "null"], "maxLength": 255},
           "options": RESOURCE_OPTIONS}
CREATE = {"type": "object", "required": ["role"], "additionalProperties": False,
          "properties": {"role": {"type": "object", "required": ["name"],
                                  "properties": _FIELDS}}}
UPDATE = {"type": "object", "required": ["role"], "additionalProperties": False,
          "properties": {"role": {"type": "object", "minProperties": 1,
                                  "properties": {**_FIELDS, "id": {"type": "string"}}}}}


def _extra(body: dict, current: dict | None = None) -> dict:
    extra = dict(current or {})
    extra.update({k: v for k, v in body.items() if k not in _FIELDS and k not in views.RESERVED})
    return extra


def target(role: Role) -> dict:
    return {"role": {"id": role.id, "name": role.name, "domain_id": role.domain_id}}


def find_for(action: str, role_id: str) -> Role:
    """The role after the caller passed `action` (get_role or get_domain_role, ...)."""
    role = Role.get_or_none(Role.id == role_id)
    if role is None:
        # Enforce before answering 404 so a caller learns nothing about other roles.
        policy.enforce(f"identity:{action}_role", {"role": {"id": role_id}})
        lookup.get_role(role_id)
    if role.domain_id:
        policy.enforce(f"identity:{action}_domain_role", target(role))
    else:
        policy.enforce(f"identity:{action}_role", target(role))
    return role


def holders(role_id: str) -> set[str]:
    """Every user holding the role by a grant, directly or through a group."""
    A = RoleAssignment
    users, groups = set(), set()
    for a in A.select(A.actor_id, A.type).where(A.role == role_id):
        (users if a.type.startswith("User") else groups).add(a.actor_id)
    if groups:
        users |= {m.user_id for m in GroupMembership.select(GroupMembership.user)
                  .where(GroupMembership.group.in_(list(groups)))}
    return users


def _same_name(name: str, domain_id: str | None):
    query = Role.select().where(Role.name == name)
    query = query.where(Role.domain_id.is_null()) if domain_id is None \
        else query.where(Role.domain_id == domain_id)
    return query.first()


@blueprint.post("/v3/roles")
@validate(CREATE)
def create_role():
    body = g.body["role"]
    domain_id = body.get("domain_id") or None
    if domain_id:
        policy.enforce("identity:create_domain_role", {"role": body})
    else:
        policy.enforce("identity:create_role")
    name = body["name"].strip()
    try:
        with db.transaction():
            if domain_id:
                lookup.get_domain(domain_id)
            if _same_name(name, domain_id):
                raise lookup.duplicate("role", name, domain_id)
            role = Role.create(name=name, domain_id=domain_id,
                               description=body.get("description") or "",
                               options=lookup.merge_options({}, body.get("options")),
                               extra=_extra(body))
    except peewee.IntegrityError:
        raise lookup.duplicate("role", name, domain_id) from None
    return {"role": views.role(role)}, 201


@blueprint.get("/v3/roles")
def list_roles():
    domain_id = request.args.get("domain_id")
    if domain_id:
        policy.enforce("identity:list_domain_roles")
        roles = Role.select().where(Role.domain_id == domain_id)
    else:
        # Without a domain_id filter Keystone lists the global roles only.
        policy.enforce("identity:list_roles", {"domain_id": g.context.domain_id})
        roles = Role.select().where(Role.domain_id.is_null())
    return views.collection("roles", [views.role(r) for r in roles.order_by(Role.name)],
                            filters=("name",))


@blueprint.get("/v3/roles/<role_id>")
def show_role(role_id):
    return {"role": views.role(find_for("get", role_id))}


@blueprint.patch("/v3/roles/<role_id>")
@validate(UPDATE)
def update_role(role_id):
    role = find_for("update", role_id)
    update = g.body["role"]
    if "id" in update and update["id"] != role_id:
        raise BadRequest("Cannot change ID")
    try:
        with db.transaction():
            role = lookup.get_role(role_id)
            lookup.check_update_allowed("role", role.id, role.options,
                                        {k: v for k, v in update.items() if k != "id"})
            if "domain_id" in update and (update["domain_id"] or None) != role.domain_id:
                raise BadRequest("Update of `domain_id` is not allowed.")
            if "name" in update:
                name = update["name"].strip()
                same = _same_name(name, role.domain_id)
                if same and same.id != role.id:
                    raise lookup.duplicate("role", name, role.domain_id)
                role.name = name
            if "description" in update:
                role.description = update["description"] or ""
            if "options" in update:
                role.options = lookup.merge_options(role.options, update["options"])
            role.extra = _extra(update, role.extra)
            role.save()
    except peewee.IntegrityError:
        raise lookup.duplicate("role", update.get("name"), role.domain_id) from None
    return {"role": views.role(role)}


@blueprint.delete("/v3/roles/<role_id>")
def delete_role(role_id):
    find_for("delete", role_id)
    with db.transaction():
        role = lookup.get_role(role_id)
        lookup.check_delete_allowed("role", role.id, role.options)
        affected = holders(role.id)
        role.delete_instance()  # its grants and implication rules cascade
    for user_id in sorted(affected):
        revocation.revoke(user_id=user_id)
    return "", 204


def _inference(prior: Role, implies) -> dict:
    return {"prior_role": views.role_reference(prior), "implies": implies}


def _implied_pair(prior_role_id: str, implied_role_id: str, action: str):
    prior, implied = lookup.get_role(prior_role_id), lookup.get_role(implied_role_id)
    policy.enforce(f"identity:{action}", {"prior_role": target(prior)["role"],
                                          "implied_role": target(implied)["role"]})
    return prior, implied


def _implied_body(prior: Role, implied: Role) -> dict:
    return {"role_inference": _inference(prior, views.role_reference(implied)),
            "links": views.links(f"roles/{prior.id}/implies/{implied.id}")}


@blueprint.put("/v3/roles/<prior_role_id>/implies/<implied_role_id>")
def create_implied_role(prior_role_id, implied_role_id):
    prior, implied = _implied_pair(prior_role_id, implied_role_id, "create_implied_role")
    if implied.name in PROHIBITED_IMPLIED_ROLES or (prior.domain_id is None and implied.domain_id):
        # Keystone: nothing implies admin, and a global role cannot imply a domain role.
        raise Forbidden(f"{implied.id} cannot be an implied roles.")
    with db.transaction():
        if not ImpliedRole.select().where(ImpliedRole.prior_role == prior.id,
                                          ImpliedRole.implied_role == implied.id).exists():
            ImpliedRole.create(prior_role=prior, implied_role=implied)
    revocation.flush_token_cache()  # live tokens carry the implied role now
    return _implied_body(prior, implied), 201


@blueprint.get("/v3/roles/<prior_role_id>/implies/<implied_role_id>")
def show_implied_role(prior_role_id, implied_role_id):
    if request.method == "HEAD":
        # Keystone answers HEAD here with 204 and checks its own policy.
        prior, implied = _implied_pair(prior_role_id, implied_role_id, "check_implied_role")
        lookup.get_implied_role(prior, implied)
        return "", 204
    prior, implied = _implied_pair(prior_role_id, implied_role_id, "get_implied_role")
    lookup.get_implied_role(prior, implied)
    return _implied_body(prior, implied)


@blueprint.delete("/v3/roles/<prior_role_id>/implies/<implied_role_id>")
def delete_implied_role(prior_role_id, implied_role_id):
    prior, implied = _implied_pair(prior_role_id, implied_role_id, "delete_implied_role")
    with db.transaction():
        lookup.get_implied_role(prior, implied).delete_instance()
    revocation.flush_token_cache()  # live tokens lose the implied role now
    return "", 204


def _implied_by(prior_id: str) -> list[Role]:
    return [rule.implied_role for rule in ImpliedRole.select(ImpliedRole, Role)
            .join(Role, on=(ImpliedRole.implied_role == Role.id))
            .where(ImpliedRole.prior_role == prior_id).order_by(Role.name)]


@blueprint.get("/v3/roles/<prior_role_id>/implies")
def list_implied_roles(prior_role_id):
    prior = lookup.get_role(prior_role_id)
    policy.enforce("identity:list_implied_roles", {"prior_role": target(prior)["role"]})
    implies = [views.role_reference(r) for r in _implied_by(prior.id)]
    return {"role_inference": _inference(prior, implies),
            "links": views.links(f"roles/{prior.id}/implies")}


@blueprint.get("/v3/role_inferences")
def list_role_inferences():
    policy.enforce("identity:list_role_inference_rules")
    priors = (Role.select().join(ImpliedRole, on=(ImpliedRole.prior_role == Role.id))
              .distinct().order_by(Role.name))
    inferences = [_inference(prior, [views.role_reference(r) for r in _implied_by(prior.id)])
                  for prior in priors]
    return {"role_inferences": inferences, "links": views.links("role_inferences")}
