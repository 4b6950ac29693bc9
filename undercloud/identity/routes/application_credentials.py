"""Identity routes: application credentials (/v3/users/{user_id}/application_credentials).

A user makes a credential from a project-scoped token; it carries some or all
of the user's roles on that project. The secret is shown once, at creation,
and stored hashed like a password.
"""
import base64
import datetime
import logging
import secrets

import peewee
from flask import Blueprint, current_app, g, request

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, Forbidden, NotFound
from undercloud.common.validation import validate
from undercloud.identity import effective, passwords, revocation, tokens
from undercloud.identity.models import ApplicationCredential, Role
from undercloud.identity.routes.auth import caller_token

LOG = logging.getLogger(__name__)
blueprint = Blueprint("identity_application_credentials", __name__)

_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}
_ROLE = {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
         "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 64},
                        "name": _NAME}}
_ACCESS_RULE = {"type": "object", "additionalProperties": False, "properties": {
    "id": {"type": "string"},
    "path": {"type": "string", "maxLength": 225, "pattern": r"^/"},
    "method": {"enum": ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]},
    "service": {"type": "string", "minLength": 1, "maxLength": 64}}}
# Keystone's application_credential_create_request_body.
CREATE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["application_credential"],
    "properties": {"application_credential": {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "properties": {
            "id": {"type": "string"},
            "name": _NAME,
            "description": {"type": ["string", "null"]},
            "secret": {"type": ["string", "null"]},
            "expires_at": {"type": ["string", "null"]},
            "project_id": {"type": "string"},
            "roles": {"type": "array", "items": _ROLE},
            "unrestricted": {"type": ["boolean", "null"]},
            "access_rules": {"type": "array", "items": _ACCESS_RULE},
            "system": {"type": ["string", "null"]},
        }}},
}


def _generate_secret() -> str:
    # Keystone's: 64 random bytes, URL-safe base64 without padding.
    return base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()


def parse_expiration(text: str) -> datetime.datetime:
    """Keystone's expiration date: ISO 8601, UTC when no offset is given, in the future."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Timestamp not in expected format: {text!r}; use ISO 8601, for "
                         "example 2030-01-31T12:00:00Z.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if moment <= db.utcnow():
        raise BadRequest(f"The expiration date {text} is in the past; it must be in the "
                         "future.")
    return moment


def _view(app_cred: ApplicationCredential, secret: str | None = None) -> dict:
    stored = {role["id"] for role in app_cred.roles}
    roles = [{"id": r.id, "name": r.name, "domain_id": r.domain_id,
              "description": r.description, "options": r.options}
             for r in Role.select().where(Role.id.in_(list(stored)))] if stored else []
    view = {"id": app_cred.id, "name": app_cred.name, "description": app_cred.description,
            "user_id": app_cred.user_id, "project_id": app_cred.project_id,
            "expires_at": app_cred.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
            if app_cred.expires_at else None,
            "unrestricted": app_cred.unrestricted, "roles": roles,
            "access_rules": app_cred.access_rules, "system": None,
            "links": {"self": request.host_url.rstrip("/") +
                      f"/v3/users/{app_cred.user_id}/application_credentials/{app_cred.id}"}}
    if secret is not None:
        view["secret"] = secret
    return view


def _require_owner_or_admin(user_id: str, action: str):
    if g.context.user_id != user_id and not g.context.is_admin:
        raise Forbidden(f"You are not authorized to perform the requested action: "
                        f"identity:{action} (only the owner or an admin may).")


def _require_unrestricted(token: tokens.Token, action: str):
    """A restricted credential's token may not make or destroy other credentials."""
    if token.payload.app_cred_id and not (token.app_cred or {}).get("unrestricted"):
        raise Forbidden(f"Using method 'application_credential' is not allowed for {action} "
                        "application credentials.")


def _roles_for(asked: list[dict] | None, token: tokens.Token) -> list[dict]:
    """The credential's roles: those asked for plus what they imply, all held by the token."""
    held = {role["id"]: role for role in token.roles}
    if not asked:
        return [{"id": r["id"], "name": r["name"], "domain_id": None} for r in token.roles]
    role_ids = set()
    for reference in asked:
        if "id" in reference:
            role = Role.get_or_none(Role.id == reference["id"])
        else:
            role = Role.get_or_none(Role.name == reference["name"], Role.domain_id.is_null())
        if role is None:
            raise NotFound(f"Could not find role: {reference.get('id') or reference['name']}.")
        role_ids.add(role.id)
    role_ids = effective.implied_closure(role_ids)
    if not role_ids <= set(held):
        raise BadRequest("Invalid application credential: Cannot create an application "
                         "credential with unassigned role.")
    return [{"id": rid, "name": held[rid]["name"], "domain_id": None} for rid in sorted(role_ids)]


@blueprint.post("/v3/users/<user_id>/application_credentials")
@validate(CREATE_SCHEMA)
def create_application_credential(user_id):
    asked = g.body["application_credential"]
    if g.context.user_id != user_id:
        raise Forbidden("You are not authorized to perform the requested action: Cannot "
                        "create an application credential for another user.")
    token = caller_token()
    _require_unrestricted(token, "creating")
    if not token.payload.project_id:
        raise BadRequest("An application credential is made from a project-scoped token; "
                         "this token is not scoped to a project.")
    if asked.get("project_id") not in (None, token.payload.project_id):
        raise BadRequest(f"project_id {asked['project_id']} is not the token's project "
                         f"{token.payload.project_id}; a credential is made for the token's "
                         "project.")
    roles = _roles_for(asked.get("roles"), token)
    expires_at = parse_expiration(asked["expires_at"]) if asked.get("expires_at") else None
    secret = asked.get("secret") or _generate_secret()
    hashed = passwords.hash_password(current_app.config["STACKBOX"], secret)  # slow: no lock held
    access_rules = [{**rule, "id": rule.get("id") or db.new_id()}
                    for rule in asked.get("access_rules") or []]
    if ApplicationCredential.get_or_none(ApplicationCredential.user == user_id,
                                         ApplicationCredential.name == asked["name"]):
        raise Conflict(f"Conflict occurred attempting to store application_credential - "
                       f"Duplicate entry: the user already has one named {asked['name']!r}.")
    try:
        with db.transaction():
            app_cred = ApplicationCredential.create(
                id=asked.get("id") or db.new_id(), name=asked["name"], user=user_id,
                project_id=token.payload.project_id, secret_hash=hashed,
                description=asked.get("description") or "", expires_at=expires_at,
                unrestricted=bool(asked.get("unrestricted")), roles=roles,
                access_rules=access_rules)
    except peewee.IntegrityError:
        raise Conflict(f"Conflict occurred attempting to store application_credential - "
                       f"Duplicate entry: {asked['name']!r} or its id is taken.") from None
    LOG.info("user %s created application credential %s", user_id, app_cred.id)
    return {"application_credential": _view(app_cred, secret)}, 201


@blueprint.get("/v3/users/<user_id>/application_credentials")
def list_application_credentials(user_id):
    _require_owner_or_admin(user_id, "list_application_credentials")
    query = ApplicationCredential.select().where(ApplicationCredential.user == user_id)
    if request.args.get("name") is not None:
        query = query.where(ApplicationCredential.name == request.args["name"])
    return {"application_credentials": [_view(a) for a in query.order_by(
                ApplicationCredential.created_at, ApplicationCredential.id)],
            "links": {"self": request.base_url, "previous": None, "next": None}}


def _owned(user_id: str, app_cred_id: str, action: str) -> ApplicationCredential:
    _require_owner_or_admin(user_id, action)
    app_cred = ApplicationCredential.get_or_none(ApplicationCredential.id == app_cred_id,
                                                 ApplicationCredential.user == user_id)
    if app_cred is None:
        raise NotFound(f"Could not find Application Credential: {app_cred_id}.")
    return app_cred


@blueprint.get("/v3/users/<user_id>/application_credentials/<app_cred_id>")
def show_application_credential(user_id, app_cred_id):
    return {"application_credential": _view(_owned(user_id, app_cred_id,
                                                   "get_application_credential"))}


@blueprint.delete("/v3/users/<user_id>/application_credentials/<app_cred_id>")
def delete_application_credential(user_id, app_cred_id):
    app_cred = _owned(user_id, app_cred_id, "delete_application_credential")
    _require_unrestricted(caller_token(), "deleting")
    with db.transaction():
        ApplicationCredential.delete().where(ApplicationCredential.id == app_cred.id).execute()
    # Tokens made from it stop working now, not when caches expire.
    revocation.flush_token_cache()
    LOG.info("application credential %s of user %s deleted", app_cred.id, user_id)
    return current_app.response_class(status=204)
