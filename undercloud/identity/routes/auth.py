"""Identity routes: authentication and tokens (Keystone's /v3/auth).

POST /v3/auth/tokens authenticates by password, token (rescoping) or
application credential and issues a token; GET/HEAD validate one, DELETE
revokes it. /v3/auth/projects, /domains, /catalog and /system tell a token's
holder where it may scope.
"""
import datetime
import logging
import time

from flask import Blueprint, current_app, g, request

from undercloud import db
from undercloud.common.auth import public
from undercloud.common.errors import BadRequest, Forbidden, NotFound, Unauthorized
from undercloud.common.policy import Enforcer
from undercloud.common.validation import check, json_body
from undercloud.identity import catalog, effective, passwords, revocation, tokens, views
from undercloud.identity.models import ApplicationCredential, Domain, Project, User

LOG = logging.getLogger(__name__)
blueprint = Blueprint("identity_auth", __name__)

GENERIC = "The request you have made requires authentication."
TOKEN_NOT_FOUND = "Could not find token."
SUPPORTED_METHODS = ("password", "token", "application_credential")

POLICY = Enforcer({
    "admin_required": "role:admin",
    "service_role": "role:service",
    "token_subject": "user_id:%(target.token.user_id)s",
    "identity:validate_token": "rule:admin_required or (role:reader and system_scope:all) "
                               "or rule:service_role or rule:token_subject",
    "identity:revoke_token": "rule:admin_required or rule:service_role or rule:token_subject",
})

_NAMED = {"type": "object", "properties": {"id": {"type": "string"},
                                           "name": {"type": "string"}}}
_USER = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                          "password": {"type": "string"}, "domain": _NAMED}}
# Keystone's token_issue schema (keystone/auth/schema.py), plus application_credential.
AUTH_SCHEMA = {
    "type": "object",
    "properties": {
        "identity": {
            "type": "object",
            "properties": {
                "methods": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "password": {"type": "object", "properties": {"user": _USER},
                             "required": ["user"]},
                "token": {"type": "object", "properties": {"id": {"type": "string"}},
                          "required": ["id"]},
                "application_credential": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                   "secret": {"type": "string"}, "user": _USER},
                    "required": ["secret"]},
            },
            "required": ["methods"],
        },
        "scope": {
            "type": ["object", "string"],
            "properties": {
                "project": {"type": "object",
                            "properties": {"id": {"type": "string"},
                                           "name": {"type": "string"}, "domain": _NAMED}},
                "domain": _NAMED,
                "system": {"type": "object", "properties": {"all": {"type": "boolean"}}},
                "OS-TRUST:trust": {"type": "object"},
                "unscoped": {},
            },
        },
    },
    "required": ["identity"],
}


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _fits(document, schema: dict) -> bool:
    """A quick yes/no for AUTH_SCHEMA's subset of JSON Schema; check() explains a no.
    (jsonschema takes longer than issuing the token, and every login pays it.)"""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(isinstance(document, _TYPES[kind]) for kind in kinds) or \
                (isinstance(document, bool) and "boolean" not in kinds):
            return False
    if isinstance(document, dict):
        if any(key not in document for key in schema.get("required", ())):
            return False
        properties = schema.get("properties", {})
        return all(_fits(document[key], properties[key])
                   for key in properties.keys() & document.keys())
    if isinstance(document, list):
        return len(document) >= schema.get("minItems", 0) and \
            all(_fits(item, schema.get("items", {})) for item in document)
    return True


def _config():
    return current_app.config["STACKBOX"]


def _json(body: bytes, status: int, headers=None):
    return current_app.response_class(body, status=status, mimetype="application/json",
                                      headers=headers)


def _links(path: str) -> dict:
    return {"self": request.host_url.rstrip("/") + path, "previous": None, "next": None}


def _need_id_or_name(document: dict | None, where: str):
    if document is not None and "id" not in document and "name" not in document:
        raise BadRequest(f"Invalid input for field {where}: id or name must be present.")


# Looking things up by id, or by name within a domain given by id or name.
def _domain(reference: dict, what: str) -> Domain:
    _need_id_or_name(reference, f"{what}/domain")
    if "id" in reference:
        domain = Domain.get_or_none(Domain.id == reference["id"])
    else:
        domain = Domain.get_or_none(Domain.name == reference["name"])
    if domain is None:
        LOG.info("authentication names a domain that does not exist: %s",
                 reference.get("id") or reference.get("name"))
        raise Unauthorized(GENERIC)
    if not domain.enabled:
        LOG.info("authentication names the disabled domain %s", domain.id)
        raise Unauthorized(GENERIC)
    return domain


def _user(reference: dict, what: str) -> User:
    _need_id_or_name(reference, what)
    if "id" in reference:
        user = User.get_or_none(User.id == reference["id"])
    else:
        if "domain" not in reference:
            raise BadRequest(f"Expecting to find domain in {what}: a user named by name "
                             "needs its domain (id or name).")
        domain = _domain(reference["domain"], what)
        user = User.get_or_none(User.name == reference["name"], User.domain == domain.id)
    if user is None:
        LOG.info("authentication for an unknown user %s", reference.get("id") or
                 reference.get("name"))
        raise Unauthorized(GENERIC)
    return user


def _check_user_enabled(user: User):
    if not user.enabled:
        LOG.info("authentication refused: user %s is disabled", user.id)
        raise Unauthorized(GENERIC)
    domain = Domain.get_or_none(Domain.id == user.domain_id)
    if domain is None or not domain.enabled:
        LOG.info("authentication refused: the domain of user %s is disabled", user.id)
        raise Unauthorized(GENERIC)


# The methods: each returns what it learned about the caller.
def _by_password(data: dict) -> dict:
    user = _user(data["user"], "identity/password/user")
    try:
        passwords.authenticate(_config(), user, data["user"].get("password"))
    except Unauthorized:
        LOG.info("password authentication failed for user %s", user.id)
        raise
    _check_user_enabled(user)
    return {"user_id": user.id}


def _by_token(data: dict) -> dict:
    try:
        original = tokens.lookup(data["id"])
    except tokens.InvalidToken as exc:
        LOG.info("rescope refused: %s", exc)
        raise NotFound("Failed to validate token.") from None
    scope = g.auth.get("scope")
    payload = original.payload
    if payload.system and isinstance(scope, dict) and ("project" in scope or "domain" in scope):
        raise Forbidden("Using a system-scoped token to create a project-scoped or "
                        "domain-scoped token is not allowed.")
    learned = {"user_id": payload.user_id, "expires_at": payload.expires_at,
               "audit_chain_id": payload.audit_chain_id, "methods": payload.methods}
    if payload.app_cred_id:
        # An application credential's token stays within that credential's bounds.
        if scope:
            raise Forbidden("Using an application credential token to create a scoped "
                            "token is not allowed.")
        learned.update(app_cred_id=payload.app_cred_id, project_id=payload.project_id)
    return learned


def _by_application_credential(data: dict) -> dict:
    if g.auth.get("scope"):
        raise Unauthorized("Application credentials cannot request a scope.")
    if "id" in data:
        app_cred = ApplicationCredential.get_or_none(ApplicationCredential.id == data["id"])
    else:
        if "name" not in data:
            raise BadRequest("Expecting to find id or name in "
                             "identity/application_credential.")
        if "user" not in data:
            raise BadRequest("Expecting to find user in identity/application_credential: "
                             "a credential named by name needs its user.")
        user = _user(data["user"], "identity/application_credential/user")
        app_cred = ApplicationCredential.get_or_none(ApplicationCredential.user == user.id,
                                                     ApplicationCredential.name == data["name"])
    if app_cred is None:
        LOG.info("authentication with an unknown application credential %s",
                 data.get("id") or data.get("name"))
        raise Unauthorized(GENERIC)
    if not passwords.verify_password(data["secret"], app_cred.secret_hash):
        LOG.info("wrong secret for application credential %s", app_cred.id)
        raise Unauthorized(GENERIC)
    if app_cred.expires_at and app_cred.expires_at <= db.utcnow():
        LOG.info("application credential %s has expired", app_cred.id)
        raise Unauthorized(GENERIC)
    _check_user_enabled(User.get_by_id(app_cred.user_id))
    learned = {"user_id": app_cred.user_id, "app_cred_id": app_cred.id,
               "project_id": app_cred.project_id}
    if app_cred.expires_at:
        # A token never outlives the credential it was made from.
        ends = int(app_cred.expires_at.replace(tzinfo=datetime.timezone.utc).timestamp())
        learned["expires_at"] = min(ends, int(time.time()) +
                                    _config()["identity"]["token_expiration"])
    return learned


METHOD_HANDLERS = {"password": _by_password, "token": _by_token,
                   "application_credential": _by_application_credential}


def _authenticate(identity: dict) -> dict:
    methods = list(dict.fromkeys(identity["methods"]))
    for name in methods:
        if name not in SUPPORTED_METHODS:
            raise Unauthorized("Attempted to authenticate with an unsupported method.")
        if name not in identity:
            raise BadRequest(f"Expecting to find {name} in identity.")
    learned = {"methods": set()}
    for name in methods:
        found = METHOD_HANDLERS[name](identity[name])
        if learned.get("user_id", found["user_id"]) != found["user_id"]:
            LOG.info("authentication methods named different users")
            raise Unauthorized(GENERIC)
        learned["methods"] |= {name, *found.pop("methods", ())}
        learned.update(found)
    return learned


# Scope: what the request asks for, or the user's default project.
def _project_scope(reference: dict) -> str:
    """The id of the project asked for; resolving the token checks it exists and is enabled."""
    _need_id_or_name(reference, "scope/project")
    if "id" in reference:
        return reference["id"]
    if "domain" not in reference:
        raise BadRequest("Expecting to find domain in project: a project named by name "
                         "needs its domain (id or name).")
    domain = _domain(reference["domain"], "scope/project")
    project = Project.get_or_none(Project.name == reference["name"],
                                  Project.domain == domain.id)
    if project is None:
        raise Unauthorized(f"Could not find project: {reference['name']}.")
    return project.id


def _requested_scope(scope, learned: dict) -> dict:
    if "app_cred_id" in learned:
        return {"project_id": learned["project_id"]}
    if scope is None:
        return _default_scope(learned["user_id"])
    if scope == "unscoped":
        return {}
    if not isinstance(scope, dict):
        raise BadRequest("Invalid input for field scope: it is an object or \"unscoped\".")
    asked = [key for key in ("project", "domain", "system", "OS-TRUST:trust", "unscoped")
             if key in scope]
    if len(asked) != 1:
        raise BadRequest("Expecting to find exactly one of system, project, domain, "
                         "OS-TRUST:trust or unscoped in scope.")
    kind = asked[0]
    if kind == "project":
        return {"project_id": _project_scope(scope["project"])}
    if kind == "domain":
        return {"domain_id": _domain(scope["domain"], "scope").id}
    if kind == "system":
        return {"system": True}
    if kind == "OS-TRUST:trust":
        raise Forbidden("Trusts are not supported by this cloud.")
    return {}


def _default_scope(user_id: str) -> dict:
    """Keystone scopes to a valid default project; otherwise the token is unscoped."""
    project_id = User.get_by_id(user_id).default_project_id
    if not project_id:
        return {}
    project = Project.get_or_none(Project.id == project_id)
    if project is None or not project.enabled or \
            not Domain.get_by_id(project.domain_id).enabled or \
            not effective.roles(user_id, project_id=project_id):
        LOG.debug("user %s's default project %s is unusable; issuing an unscoped token",
                  user_id, project_id)
        return {}
    return {"project_id": project_id}


@blueprint.post("/v3/auth/tokens")
@public
def issue_token():
    document = json_body()
    if not isinstance(document, dict) or not isinstance(document.get("auth"), dict):
        raise BadRequest("Expecting to find auth in request body.")
    auth = g.auth = document["auth"]
    if not _fits(auth, AUTH_SCHEMA):
        check(auth, AUTH_SCHEMA)   # raises 400 naming the field
        raise BadRequest("The auth document does not fit Keystone's schema.")
    learned = _authenticate(auth["identity"])
    scope = _requested_scope(auth.get("scope"), learned)
    payload = tokens.new_payload(
        _config(), user_id=learned["user_id"], methods=learned["methods"],
        expires_at=learned.get("expires_at"), audit_chain_id=learned.get("audit_chain_id"),
        app_cred_id=learned.get("app_cred_id"), **scope)
    try:
        token = tokens.resolve(payload)
    except (tokens.NoAccess, tokens.ScopeUnusable) as exc:
        LOG.info("token refused: %s", exc)
        raise Unauthorized(str(exc)) from None
    except tokens.InvalidToken as exc:
        LOG.info("token refused: %s", exc)
        raise Unauthorized(GENERIC) from None
    token.text = tokens.seal(payload, _config())
    tokens.remember(token)
    body = token.json("nocatalog" not in request.args)
    return _json(body, 201, {"X-Subject-Token": token.text})


def _subject(allow_expired: bool = False) -> tokens.Token:
    text = request.headers.get("X-Subject-Token")
    if not text:
        raise NotFound(TOKEN_NOT_FOUND)
    revocation.sync()  # another process may have revoked it a moment ago
    window = revocation.ALLOW_EXPIRED_WINDOW if allow_expired else 0
    try:
        return tokens.lookup(text, allow_expired_seconds=window)
    except tokens.InvalidToken as exc:
        LOG.debug("subject token refused: %s", exc)
        raise NotFound(TOKEN_NOT_FOUND) from None


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on", "y", "t")


@blueprint.get("/v3/auth/tokens")
def validate_token():
    token = _subject(_truthy(request.args.get("allow_expired")))
    POLICY.enforce("identity:validate_token", {"target.token.user_id": token.payload.user_id})
    body = token.json("nocatalog" not in request.args)
    return _json(body, 200, {"X-Subject-Token": token.text})


@blueprint.delete("/v3/auth/tokens")
def revoke_token():
    token = _subject()
    POLICY.enforce("identity:revoke_token", {"target.token.user_id": token.payload.user_id})
    revocation.revoke(audit_id=token.payload.audit_ids[0])
    tokens.forget(token.text)
    return current_app.response_class(status=204)


def caller_token() -> tokens.Token:
    """The resolved token of the caller (already validated by the middleware)."""
    try:
        return tokens.lookup(g.context.token)
    except tokens.InvalidToken:
        raise Unauthorized(GENERIC) from None


@blueprint.get("/v3/auth/projects")
def auth_projects():
    ids = list(effective.project_ids(g.context.user_id))
    projects = Project.select().where(Project.id.in_(ids)).order_by(Project.name) if ids else []
    return {"projects": [views.project(p) for p in projects],
            "links": _links("/v3/auth/projects")}


@blueprint.get("/v3/auth/domains")
def auth_domains():
    ids = list(effective.domain_ids(g.context.user_id))
    domains = Domain.select().where(Domain.id.in_(ids)).order_by(Domain.name) if ids else []
    return {"domains": [views.domain(d) for d in domains], "links": _links("/v3/auth/domains")}


@blueprint.get("/v3/auth/catalog")
def auth_catalog():
    if not g.context.project_id:
        raise Forbidden("A project-scoped token is required to produce a service catalog.")
    return {"catalog": catalog.for_scope(g.context.project_id),
            "links": _links("/v3/auth/catalog")}


@blueprint.get("/v3/auth/system")
def auth_system():
    system = [{"all": True}] if effective.has_system_role(g.context.user_id) else []
    return {"system": system, "links": _links("/v3/auth/system")}
