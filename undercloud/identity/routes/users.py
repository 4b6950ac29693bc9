"""Identity routes: users (/v3/users), a user's projects, and changing one's own password.

Passwords are hashed before any write transaction opens (the hash is slow on purpose)
and never returned. Disabling or deleting a user, or changing their password, revokes
their tokens.
"""
import datetime

import peewee
from flask import Blueprint, current_app, g, request

from undercloud import db
from undercloud.common.auth import public
from undercloud.common.errors import BadRequest, Unauthorized
from undercloud.common.validation import validate
from undercloud.identity import effective, lookup, passwords, policy, revocation, views
from undercloud.identity.models import DEFAULT_DOMAIN_ID, Domain, Project, RoleAssignment, User

blueprint = Blueprint("identity_users", __name__)

NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"[\S]+"}
_FLAG = {"type": ["boolean", "null"]}
USER_OPTIONS = {"type": "object", "additionalProperties": False, "properties": {
    "ignore_change_password_upon_first_use": _FLAG, "ignore_password_expiry": _FLAG,
    "ignore_lockout_failure_attempts": _FLAG, "lock_password": _FLAG,
    "ignore_user_inactivity": _FLAG, "multi_factor_auth_enabled": _FLAG,
    "multi_factor_auth_rules": {"type": ["array", "null"], "uniqueItems": True, "items": {
        "type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}}}}}
_FIELDS = {"name": NAME, "domain_id": {"type": "string"}, "enabled": {"type": "boolean"},
           "default_project_id": {"type": ["string", "null"], "maxLength": 64},
           "description": {"type": ["string", "null"]},
           "password": {"type": ["string", "null"], "maxLength": 4096},
           "options": USER_OPTIONS, "federated": {"type": "array"}}
CREATE = {"type": "object", "required": ["user"], "additionalProperties": False,
          "properties": {"user": {"type": "object", "required": ["name"],
                                  "properties": _FIELDS}}}
UPDATE = {"type": "object", "required": ["user"], "additionalProperties": False,
          "properties": {"user": {"type": "object", "minProperties": 1,
                                  "properties": {**_FIELDS, "id": {"type": "string"}}}}}
CHANGE_PASSWORD = {"type": "object", "required": ["user"], "properties": {"user": {
    "type": "object", "required": ["original_password", "password"],
    "properties": {"original_password": {"type": "string"},
                   "password": {"type": "string", "maxLength": 4096}}}}}

# password_expires_at=<op>:<timestamp>, Keystone's comparison operators.
_COMPARE = {"lt": lambda a, b: a < b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b, "eq": lambda a, b: a == b, "neq": lambda a, b: a != b}


def _config():
    return current_app.config["STACKBOX"]


def _extra(body: dict, current: dict | None = None) -> dict:
    extra = dict(current or {})
    extra.update({k: v for k, v in body.items() if k not in _FIELDS and k not in views.RESERVED})
    return extra


def target(user: User | None, user_id: str | None = None) -> dict:
    if user is None:
        return {"user": {"id": user_id}} if user_id else {}
    return {"user": {"id": user.id, "domain_id": user.domain_id, "name": user.name}}


def find_for(action: str, user_id: str) -> User:
    """The user, after the caller passed `action` on them (403 before 404, as Keystone)."""
    user = User.get_or_none(User.id == user_id)
    policy.enforce(action, target(user, user_id))
    if user is None:
        lookup.get_user(user_id)
    return user


def _check_default_project(project_id):
    # Keystone only refuses a domain here; a project that does not exist (yet) is accepted.
    if project_id and Domain.get_or_none(Domain.id == project_id):
        raise BadRequest(f"User's default project ID cannot be a domain ID: {project_id}")


def _check_federated(body: dict):
    for link in body.get("federated") or []:
        idp = link.get("idp_id") if isinstance(link, dict) else link
        raise BadRequest(f"Could not find Identity Provider: {idp}")


def _hash_new_password(password):
    """The hash of an admin-set password (None for none), computed outside any transaction."""
    if password is None:
        return None
    passwords.check_strength(_config(), password)
    return passwords.hash_password(_config(), password)


def _store_password(user: User, hashed: str):
    config = _config()
    passwords.store_password(config, user, hashed)
    # [security_compliance] change_password_upon_first_use: an admin-set password expires now.
    if config["identity"]["change_password_upon_first_use"] and \
            not (user.options or {}).get("ignore_change_password_upon_first_use"):
        user.password_expires_at = db.utcnow()
        user.save(only=[User.password_expires_at])


@blueprint.post("/v3/users")
@validate(CREATE)
def create_user():
    body = g.body["user"]
    domain_id = body.get("domain_id") or g.context.domain_id or DEFAULT_DOMAIN_ID
    described = {k: v for k, v in body.items() if k != "password"}  # policy never sees it
    policy.enforce("identity:create_user", {"user": {**described, "domain_id": domain_id}})
    _check_federated(body)
    hashed = _hash_new_password(body.get("password"))
    name = body["name"].strip()
    try:
        with db.transaction():
            lookup.get_domain(domain_id)
            _check_default_project(body.get("default_project_id"))
            if User.get_or_none(User.domain == domain_id, User.name == name):
                raise lookup.duplicate("user", name, domain_id)
            user = User.create(
                name=name, domain=domain_id, enabled=body.get("enabled", True),
                default_project_id=body.get("default_project_id"),
                description=body.get("description") or "",
                options=lookup.merge_options({}, body.get("options")), extra=_extra(body))
            if hashed:
                _store_password(user, hashed)
    except peewee.IntegrityError:
        raise lookup.duplicate("user", name, domain_id) from None
    return {"user": views.user(user)}, 201


def password_expiry_filter(users: list[User]) -> list[User]:
    text = request.args.get("password_expires_at")
    if text is None:
        return users
    operator, _, moment = text.partition(":")
    if operator not in _COMPARE:
        operator, moment = "eq", text
    try:
        when = datetime.datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise BadRequest(f"Invalid password_expires_at filter {text!r}: use "
                         "<lt|lte|gt|gte|eq|neq>:YYYY-MM-DDTHH:mm:ssZ.") from None
    compare = _COMPARE[operator]
    return [u for u in users if u.password_expires_at is not None
            and compare(u.password_expires_at.replace(microsecond=0), when)]


@blueprint.get("/v3/users")
def list_users():
    context = g.context
    policy.enforce("identity:list_users",
                   {"domain_id": context.domain_id} if context.domain_id else None)
    users = User.select().order_by(User.name)
    if context.domain_id:
        # A domain-scoped reader sees only the users of their domain.
        users = users.where(User.domain == context.domain_id)
    refs = [views.user(u) for u in password_expiry_filter(list(users))]
    return views.collection("users", refs, filters=("domain_id", "enabled", "name"))


@blueprint.get("/v3/users/<user_id>")
def show_user(user_id):
    return {"user": views.user(find_for("identity:get_user", user_id))}


@blueprint.patch("/v3/users/<user_id>")
@validate(UPDATE)
def update_user(user_id):
    find_for("identity:update_user", user_id)
    update = g.body["user"]
    if "id" in update and update["id"] != user_id:
        raise BadRequest("Cannot change user ID")
    _check_federated(update)
    hashed = _hash_new_password(update.get("password"))
    revoke = hashed is not None
    try:
        with db.transaction():
            user = lookup.get_user(user_id)
            if "domain_id" in update and update["domain_id"] != user.domain_id:
                raise BadRequest("Cannot change Domain ID")
            if "name" in update:
                name = update["name"].strip()
                if name != user.name and User.get_or_none(
                        User.domain == user.domain_id, User.name == name):
                    raise lookup.duplicate("user", name, user.domain_id)
                user.name = name
            if "enabled" in update:
                revoke |= user.enabled and not update["enabled"]
                user.enabled = update["enabled"]
            if "default_project_id" in update:
                _check_default_project(update["default_project_id"])
                user.default_project_id = update["default_project_id"]
            if "description" in update:
                user.description = update["description"] or ""
            if "options" in update:
                user.options = lookup.merge_options(user.options, update["options"])
            user.extra = _extra({k: v for k, v in update.items() if k != "id"}, user.extra)
            user.save()
            if hashed:
                _store_password(user, hashed)
    except peewee.IntegrityError:
        raise lookup.duplicate("user", update.get("name")) from None
    if revoke:
        revocation.revoke(user_id=user_id)
    return {"user": views.user(user)}


@blueprint.delete("/v3/users/<user_id>")
def delete_user(user_id):
    find_for("identity:delete_user", user_id)
    with db.transaction():
        user = lookup.get_user(user_id)
        A = RoleAssignment
        A.delete().where(A.actor_id == user.id,
                         A.type.in_([A.USER_PROJECT, A.USER_DOMAIN, A.USER_SYSTEM])).execute()
        user.delete_instance()  # memberships, password history and app credentials cascade
    revocation.revoke(user_id=user_id)
    return "", 204


@blueprint.get("/v3/users/<user_id>/projects")
def list_user_projects(user_id):
    user = find_for("identity:list_user_projects", user_id)
    ids = list(effective.project_ids(user.id))
    projects = Project.select().where(Project.id.in_(ids)).order_by(Project.name) if ids else []
    return views.collection("projects", [views.project(p) for p in projects],
                            filters=("domain_id", "enabled", "name"))


def _check_original_password(user: User | None, original: str):
    """Keystone's change-password authentication: an expired password may still be changed."""
    if user is None:
        raise Unauthorized("Error when changing user password: Invalid user / password")
    try:
        passwords.authenticate(_config(), user, original)
    except Unauthorized as exc:
        if exc.message == Unauthorized.message:  # the generic answer: a wrong password
            raise Unauthorized("Error when changing user password: "
                               "Invalid user / password") from None
        if not exc.message.startswith("The password is expired"):
            raise  # locked out
    if not user.enabled:
        raise Unauthorized(f"The account is disabled for user: {user.id}.")


@blueprint.post("/v3/users/<user_id>/password")
@public
@validate(CHANGE_PASSWORD)
def change_password(user_id):
    # No policy: a user whose password expired has no token and must still change it.
    body = g.body["user"]
    config = _config()
    user = User.get_or_none(User.id == user_id)
    _check_original_password(user, body["original_password"])
    passwords.check_strength(config, body["password"])
    if (user.options or {}).get("lock_password"):
        raise BadRequest("Password validation error: You cannot change your password at this "
                         "time due to password policy disallowing password changes. Please "
                         "contact your administrator to reset your password.")
    passwords.check_minimum_age(config, user)
    passwords.check_history(config, user, body["password"])
    hashed = passwords.hash_password(config, body["password"])
    passwords.store_password(config, user, hashed)
    revocation.revoke(user_id=user.id)
    return "", 204
