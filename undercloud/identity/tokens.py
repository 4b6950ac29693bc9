"""Tokens: a compact payload, sealed with Fernet under rotating keys, validated locally.

A token is a Fernet token (AES-128-CBC + HMAC-SHA256, padding stripped as
Keystone does) around a small binary payload: the user, the methods used, the
scope, when it expires, when it was issued (to the microsecond, for
revocation), its audit ids and the application credential used, if any.
Nothing is stored per token, so any API process holding the key repository
validates a token without a round trip: decrypt, check expiry and revocation,
look up the user, scope and effective roles. The result is cached per token
for a few seconds; any revocation event drops the whole cache at once.
"""
import base64
import binascii
import copy
import datetime
import json
import logging
import secrets
import struct
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import cryptography.fernet

from undercloud import db
from undercloud.common.secrets import token_keys_dir
from undercloud.common.context import RequestContext
from undercloud.common.errors import ServiceUnavailable, Unauthorized
from undercloud.db.base import legacy_table_name
from undercloud.identity import catalog, keys, models, revocation

LOG = logging.getLogger(__name__)

FORMAT_VERSION = 1
UNSCOPED, PROJECT, DOMAIN, SYSTEM = 0, 1, 2, 3
APP_CRED_FLAG = 4
METHODS = ("password", "token", "application_credential", "totp", "external", "mapped",
           "oauth1", "oauth2_credential")
_METHOD_BITS = {name: 1 << number for number, name in enumerate(METHODS)}
_HEADER = struct.Struct(">BBBIQ")   # version, scope and flags, methods, expires_at, issued_at
_NONE, _HEX_ID, _AUDIT_ID, _TEXT_ID = 0, 1, 2, 3
MAX_TOKEN_LENGTH = 1024
# A validated token is trusted this long before its user, scope and roles are read again.
CACHE_SECONDS = 5.0
CACHE_SIZE = 4096


class InvalidToken(Exception):
    """The token cannot be used; the message says why (for logs, never for the client)."""


class NoAccess(InvalidToken):
    """The user has no role on the token's scope; Keystone tells the client so."""


@dataclass(slots=True)
class Payload:
    user_id: str
    methods: list[str]
    expires_at: int                    # seconds since the epoch
    issued_at: int                     # microseconds since the epoch
    audit_ids: list[str]               # [own audit id] or [own, the chain's first]
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    app_cred_id: str | None = None

    @property
    def scoped(self) -> bool:
        return bool(self.project_id or self.domain_id or self.system)

    @property
    def audit_chain_id(self) -> str:
        return self.audit_ids[-1]


# Packing: ids that are uuid hex or audit ids take 16 bytes, anything else its UTF-8.
def _pack_id(value: str | None) -> bytes:
    if value is None:
        return bytes([_NONE])
    if len(value) == 32:
        try:
            raw = bytes.fromhex(value)
            if raw.hex() == value:
                return bytes([_HEX_ID]) + raw
        except ValueError:
            pass
    if len(value) == 22:
        try:
            raw = base64.urlsafe_b64decode(value + "==")
            if len(raw) == 16 and _audit_text(raw) == value:
                return bytes([_AUDIT_ID]) + raw
        except (ValueError, binascii.Error):
            pass
    text = value.encode()
    if len(text) > 255:
        raise ValueError(f"an id of {len(text)} bytes is too long for a token (at most 255)")
    return bytes([_TEXT_ID, len(text)]) + text


def _unpack_id(data: bytes, offset: int) -> tuple[str | None, int]:
    kind = data[offset]
    if kind == _NONE:
        return None, offset + 1
    if kind == _HEX_ID:
        return data[offset + 1:offset + 17].hex(), offset + 17
    if kind == _AUDIT_ID:
        return _audit_text(data[offset + 1:offset + 17]), offset + 17
    if kind == _TEXT_ID:
        length = data[offset + 1]
        return data[offset + 2:offset + 2 + length].decode(), offset + 2 + length
    raise ValueError(f"unknown id kind {kind}")


def _audit_text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_audit_id() -> str:
    """Keystone's audit id: 16 random bytes, URL-safe base64 without padding (22 chars)."""
    return _audit_text(secrets.token_bytes(16))


def pack(payload: Payload) -> bytes:
    scope = (PROJECT if payload.project_id else DOMAIN if payload.domain_id
             else SYSTEM if payload.system else UNSCOPED)
    flags = scope | (APP_CRED_FLAG if payload.app_cred_id else 0)
    methods = 0
    for name in payload.methods:
        methods |= _METHOD_BITS[name]
    parts = [_HEADER.pack(FORMAT_VERSION, flags, methods, payload.expires_at, payload.issued_at),
             _pack_id(payload.user_id)]
    if scope in (PROJECT, DOMAIN):
        parts.append(_pack_id(payload.project_id or payload.domain_id))
    if payload.app_cred_id:
        parts.append(_pack_id(payload.app_cred_id))
    parts.append(bytes([len(payload.audit_ids)]))
    parts.extend(_pack_id(audit_id) for audit_id in payload.audit_ids)
    return b"".join(parts)


def unpack(data: bytes) -> Payload:
    try:
        version, flags, methods, expires_at, issued_at = _HEADER.unpack_from(data)
        if version != FORMAT_VERSION:
            raise ValueError(f"token format version {version}")
        user_id, offset = _unpack_id(data, _HEADER.size)
        scope, scope_id = flags & 3, None
        if scope in (PROJECT, DOMAIN):
            scope_id, offset = _unpack_id(data, offset)
        app_cred_id = None
        if flags & APP_CRED_FLAG:
            app_cred_id, offset = _unpack_id(data, offset)
        count, offset, audit_ids = data[offset], offset + 1, []
        for _ in range(count):
            audit_id, offset = _unpack_id(data, offset)
            audit_ids.append(audit_id)
        if offset != len(data) or not audit_ids or not user_id:
            raise ValueError("the payload has the wrong length")
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken(f"the token payload is malformed ({exc})") from None
    return Payload(user_id, [m for m in METHODS if methods & _METHOD_BITS[m]], expires_at,
                   issued_at, audit_ids, project_id=scope_id if scope == PROJECT else None,
                   domain_id=scope_id if scope == DOMAIN else None, system=scope == SYSTEM,
                   app_cred_id=app_cred_id)


# Keys: one KeyRing per repository, the process default set by configure().
_keyrings: dict[str, keys.KeyRing] = {}
_keyrings_lock = threading.Lock()
_default_config = None
_default_ring: keys.KeyRing | None = None


def configure(config):
    """Use this config's key repository in this process (validator() does it)."""
    global _default_config, _default_ring
    if _default_config is not None and _default_config.database_url != config.database_url:
        forget_all()          # tokens and catalog of another database
        catalog.forget()
    _default_config = config
    _default_ring = None
    _default_ring = _ring(config)
    revocation.configure(config)


def _ring(config=None) -> keys.KeyRing:
    if config is None or config is _default_config:
        if _default_ring is not None:
            return _default_ring
        config = _default_config
    if config is None:
        raise RuntimeError("tokens.configure(config) has not been called in this process")
    directory = token_keys_dir(config)
    with _keyrings_lock:
        return _keyrings.setdefault(directory, keys.KeyRing(directory))


def _fernet(config=None) -> cryptography.fernet.MultiFernet:
    try:
        return _ring(config).fernet()
    except keys.NoKeys as exc:
        LOG.error("%s", exc)
        raise ServiceUnavailable("The identity service has no token keys; see its log.") from None


def seal(payload: Payload, config=None) -> str:
    """The token text: the payload encrypted with the primary key."""
    sealed = _fernet(config).encrypt_at_time(pack(payload), payload.issued_at // 1_000_000)
    return sealed.decode().rstrip("=")


def decode(token: str, config=None) -> Payload:
    """The payload of a token made with any active key; InvalidToken otherwise."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise InvalidToken("the token is empty or too long")
    try:
        data = _fernet(config).decrypt((token + "=" * (-len(token) % 4)).encode("ascii"))
    except (cryptography.fernet.InvalidToken, UnicodeEncodeError, TypeError, ValueError):
        raise InvalidToken("the token was not made with any active key") from None
    return unpack(data)


def new_payload(config, *, user_id: str, methods, project_id=None, domain_id=None,
                system=False, expires_at: int | None = None, audit_chain_id=None,
                app_cred_id=None) -> Payload:
    """A payload issued now; a rescoped token passes the original's expiry and audit chain."""
    issued_at = time.time_ns() // 1000
    if expires_at is None:
        expires_at = issued_at // 1_000_000 + config["identity"]["token_expiration"]
    audit_ids = [new_audit_id()] + ([audit_chain_id] if audit_chain_id else [])
    return Payload(user_id, [m for m in METHODS if m in set(methods)], expires_at, issued_at,
                   audit_ids, project_id=project_id, domain_id=domain_id, system=bool(system),
                   app_cred_id=app_cred_id)


def issue(config, **kwargs) -> tuple[str, "Token"]:
    """Issue a token (checks the user, scope and roles); returns its text and resolved form."""
    payload = new_payload(config, **kwargs)
    token = resolve(payload)
    text = seal(payload, config)
    token.text = text
    remember(token)
    return text, token


# Resolving: the user, scope and roles a payload stands for, read from the database.
def isotime(micros: int) -> str:
    """Keystone's token timestamp: 2015-08-27T09:49:58.000000Z."""
    seconds, fraction = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:06d}Z"


@dataclass
class Token:
    """A valid token's payload with what it stands for now."""
    payload: Payload
    user: dict                           # id, name, domain {id, name}, password_expires_at
    project: dict | None = None          # id, name, domain {id, name}
    domain: dict | None = None           # id, name
    roles: list[dict] = field(default_factory=list)    # [{id, name}]
    app_cred: dict | None = None         # id, name, unrestricted, access_rules
    text: str | None = field(default=None, repr=False)
    _context: RequestContext | None = field(default=None, repr=False)
    _json: str | None = field(default=None, repr=False)

    def context(self) -> RequestContext:
        """A RequestContext for this request (a copy: the app sets request_id on it)."""
        if self._context is None:
            p = self.payload
            self._context = RequestContext(
                user_id=p.user_id, user_name=self.user["name"],
                user_domain_id=self.user["domain"]["id"],
                project_id=p.project_id,
                project_name=self.project["name"] if self.project else None,
                project_domain_id=self.project["domain"]["id"] if self.project else None,
                domain_id=p.domain_id, system_scope="all" if p.system else None,
                roles=[role["name"] for role in self.roles], token=self.text,
                audit_ids=list(p.audit_ids), methods=list(p.methods),
                expires_at=isotime(p.expires_at * 1_000_000))
        context = copy.copy(self._context)
        context.roles = list(context.roles)
        return context

    def body(self, include_catalog: bool = True) -> dict:
        """The token as Keystone renders it in POST and GET /v3/auth/tokens."""
        p = self.payload
        token = {"methods": list(p.methods), "user": self.user, "audit_ids": list(p.audit_ids),
                 "expires_at": isotime(p.expires_at * 1_000_000),
                 "issued_at": isotime(p.issued_at)}
        if p.system:
            token["roles"] = self.roles
            token["system"] = {"all": True}
        elif p.domain_id:
            token["domain"] = self.domain
            token["roles"] = self.roles
        elif p.project_id:
            token["project"] = self.project
            token["is_domain"] = False
            token["roles"] = self.roles
        if include_catalog and p.scoped:
            token["catalog"] = catalog.for_scope(p.project_id)
        if self.app_cred:
            token["application_credential"] = {
                "id": self.app_cred["id"], "name": self.app_cred["name"],
                "restricted": not self.app_cred["unrestricted"]}
            if self.app_cred["access_rules"]:
                token["application_credential"]["access_rules"] = self.app_cred["access_rules"]
        return {"token": token}

    def json(self, include_catalog: bool = True) -> bytes:
        """body() as JSON bytes. The token's part is made once while it is cached; the
        catalog's JSON is shared by every token of the project, so a cached token is small."""
        text = self._json
        if text is None:
            text = self._json = json.dumps(self.body(include_catalog=False),
                                           separators=(",", ":"))
        if include_catalog and self.payload.scoped:
            # The body ends with the token object's closing "}}": the catalog goes last.
            services = catalog.json_for_scope(self.payload.project_id)
            text = f'{text[:-2]},"catalog":{services}}}}}'
        return text.encode()

    def revocation_facts(self) -> dict:
        return {"user_domain_id": self.user["domain"]["id"],
                "project_domain_id": self.project["domain"]["id"] if self.project else None,
                "role_ids": [role["id"] for role in self.roles]}


# Reading what a token stands for. These run on every cache miss, so they are plain SQL:
# peewee builds each query afresh, which costs ~50 times more than SQLite running it.
_TABLES = {legacy_table_name(model): f'"{model._meta.table_name}"' for model in models.TABLES}
_SQL_USER = """
SELECT u.id, u.name, u.enabled, u.password_expires_at, d.id, d.name, d.enabled
FROM {user} u JOIN {domain} d ON d.id = u.domain_id WHERE u.id = ?""".format(**_TABLES)
_SQL_PROJECT = """
SELECT p.id, p.name, p.enabled, d.id, d.name, d.enabled
FROM {project} p JOIN {domain} d ON d.id = p.domain_id WHERE p.id = ?""".format(**_TABLES)
_SQL_DOMAIN = "SELECT id, name, enabled FROM {domain} WHERE id = ?".format(**_TABLES)
_SQL_APP_CRED = """
SELECT id, name, project_id, unrestricted, roles, access_rules FROM {application_credential}
WHERE id = ? AND user_id = ?""".format(**_TABLES)
# effective.roles() in one query: the user and their groups, grants on the target (and,
# for a project, inherited grants on its ancestors and its domain), then implied roles.
_SQL_ROLES = """
WITH RECURSIVE
  actor(id) AS (SELECT ? UNION SELECT group_id FROM {group_membership} WHERE user_id = ?),
  chain(id, parent_id, domain_id) AS (
    SELECT id, parent_id, domain_id FROM {project} WHERE id = ?
    UNION ALL
    SELECT p.id, p.parent_id, p.domain_id FROM {project} p JOIN chain c ON p.id = c.parent_id),
  granted(role_id) AS (
    SELECT a.role_id FROM {role_assignment} a
    WHERE a.actor_id IN (SELECT id FROM actor) AND (%s)),
  closure(role_id) AS (
    SELECT role_id FROM granted
    UNION
    SELECT i.implied_role_id FROM {implied_role} i JOIN closure c ON i.prior_role_id = c.role_id)
SELECT r.id, r.name FROM {role} r
WHERE r.id IN (SELECT role_id FROM closure) AND r.domain_id IS NULL
ORDER BY r.name""".format(**_TABLES)
_ON_PROJECT = """
    a.type IN ('UserProject', 'GroupProject', 'UserDomain', 'GroupDomain') AND (
      (a.target_id = ? AND a.inherited = ?)
      OR (a.inherited = ? AND (a.target_id IN (SELECT id FROM chain WHERE id <> ?)
                               OR a.target_id IN (SELECT domain_id FROM chain WHERE id = ?))))"""
_ON_DOMAIN = "a.type IN ('UserDomain', 'GroupDomain') AND a.target_id = ? AND a.inherited = ?"
_ON_SYSTEM = "a.type IN ('UserSystem', 'GroupSystem') AND a.target_id = 'system'"
_SQL_ROLES_ON = {"project": _SQL_ROLES % _ON_PROJECT, "domain": _SQL_ROLES % _ON_DOMAIN,
                 "system": _SQL_ROLES % _ON_SYSTEM}
_translated: dict[tuple[str, str], str] = {}


def _rows(sql: str, params: tuple) -> list[tuple]:
    """Run plain SQL written with ? placeholders on SQLite or PostgreSQL."""
    database = db.database.obj
    placeholder = getattr(database, "param", "?")
    if placeholder != "?":
        key = (sql, placeholder)
        sql = _translated.get(key) or _translated.setdefault(key, sql.replace("?", placeholder))
    return database.execute_sql(sql, params).fetchall()


def _timestamp(value) -> str | None:
    """Keystone's 2016-11-06T15:32:17.000000 from a datetime or SQLite's stored text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def role_list(user_id: str, project_id=None, domain_id=None, system=False) -> list[dict]:
    """The user's effective roles on one target as [{id, name}] (domain-specific ones left out,
    as Keystone does: they only lend the roles they imply)."""
    if project_id:
        rows = _rows(_SQL_ROLES_ON["project"], (user_id, user_id, project_id, project_id, False,
                                                True, project_id, project_id))
    elif domain_id:
        rows = _rows(_SQL_ROLES_ON["domain"], (user_id, user_id, None, domain_id, False))
    elif system:
        rows = _rows(_SQL_ROLES_ON["system"], (user_id, user_id, None))
    else:
        return []
    return [{"id": row[0], "name": row[1]} for row in rows]


class ScopeUnusable(InvalidToken):
    """The requested scope is gone or disabled; Keystone says so in its 401."""


def resolve(payload: Payload) -> Token:
    """What the payload stands for now, or InvalidToken saying why it stands for nothing."""
    user = _rows(_SQL_USER, (payload.user_id,))
    if not user or not user[0][2]:
        raise InvalidToken(f"the user {payload.user_id} is disabled or gone")
    user_id, user_name, _, password_expires_at, domain_id, domain_name, domain_enabled = user[0]
    if not domain_enabled:
        raise InvalidToken(f"the domain {domain_id} of user {user_id} is disabled")
    token = Token(payload, {"domain": {"id": domain_id, "name": domain_name}, "id": user_id,
                            "name": user_name,
                            "password_expires_at": _timestamp(password_expires_at)})
    if payload.project_id:
        project = _rows(_SQL_PROJECT, (payload.project_id,))
        if not project:
            raise ScopeUnusable(f"Could not find project: {payload.project_id}.")
        project_id, name, enabled, domain_id, domain_name, domain_enabled = project[0]
        if not enabled:
            raise ScopeUnusable(f"Project {project_id} is disabled.")
        if not domain_enabled:
            raise ScopeUnusable(f"Domain {domain_id} is disabled.")
        token.project = {"domain": {"id": domain_id, "name": domain_name}, "id": project_id,
                         "name": name}
        token.roles = role_list(user_id, project_id=project_id)
        if payload.app_cred_id:
            token.app_cred, token.roles = _app_cred_roles(payload, token.roles)
        if not token.roles:
            raise NoAccess(f"User {user_id} has no access to project {project_id}")
    elif payload.domain_id:
        domain = _rows(_SQL_DOMAIN, (payload.domain_id,))
        if not domain:
            raise ScopeUnusable(f"Could not find domain: {payload.domain_id}.")
        if not domain[0][2]:
            raise ScopeUnusable(f"Domain {payload.domain_id} is disabled.")
        token.domain = {"id": domain[0][0], "name": domain[0][1]}
        token.roles = role_list(user_id, domain_id=payload.domain_id)
        if not token.roles:
            raise NoAccess(f"User {user_id} has no access to domain {payload.domain_id}")
    elif payload.system:
        token.roles = role_list(user_id, system=True)
        if not token.roles:
            raise NoAccess(f"User {user_id} has no access to the system")
    return token


def _app_cred_roles(payload: Payload, user_roles: list[dict]) -> tuple[dict, list[dict]]:
    """The application credential, and its roles that the user still has on the project."""
    rows = _rows(_SQL_APP_CRED, (payload.app_cred_id, payload.user_id))
    if not rows or rows[0][2] != payload.project_id:
        raise InvalidToken(f"the application credential {payload.app_cred_id} is gone")
    app_cred_id, name, _, unrestricted, roles, access_rules = rows[0]
    granted = {role["id"] for role in json.loads(roles or "[]")}
    return ({"id": app_cred_id, "name": name, "unrestricted": bool(unrestricted),
             "access_rules": json.loads(access_rules or "[]")},
            [role for role in user_roles if role["id"] in granted])


# Validating: decrypt, expiry, revocation, resolve; cached per token text.
@dataclass(slots=True)
class _Entry:
    token: Token
    generation: int           # revocation.generation() when resolved
    pruned: int               # the key ring's pruned count when resolved
    built: float


_cache: "OrderedDict[str, _Entry]" = OrderedDict()
_cache_lock = threading.Lock()


def remember(token: Token, generation: int | None = None, pruned: int | None = None):
    """Cache a freshly validated or issued token (with the state it was checked against)."""
    entry = _Entry(token, revocation.generation() if generation is None else generation,
                   _keys_pruned() if pruned is None else pruned, time.monotonic())
    with _cache_lock:
        _cache[token.text] = entry
        _cache.move_to_end(token.text)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def forget(text: str):
    with _cache_lock:
        _cache.pop(text, None)


def forget_all():
    with _cache_lock:
        _cache.clear()


def _keys_pruned() -> int:
    ring = _ring()
    try:
        ring.fernet()   # looks at the directory at most once a second
    except keys.NoKeys:
        return -1
    return ring.pruned


def lookup(text: str, allow_expired_seconds: int = 0) -> Token:
    """The valid token for text, or InvalidToken; expired tokens pass within the window."""
    generation, pruned = revocation.generation(), _keys_pruned()
    entry = _cache.get(text)
    if entry is not None and entry.generation == generation and entry.pruned == pruned \
            and time.monotonic() - entry.built < CACHE_SECONDS:
        if time.time() >= entry.token.payload.expires_at + allow_expired_seconds:
            raise InvalidToken("the token has expired")
        return entry.token
    payload = decode(text)
    if time.time() >= payload.expires_at + allow_expired_seconds:
        raise InvalidToken("the token has expired")
    token = resolve(payload)
    token.text = text
    if revocation.is_revoked(payload, **token.revocation_facts()):
        raise InvalidToken("the token has been revoked")
    # The state read before resolving: anything that changed meanwhile makes the entry stale.
    remember(token, generation, pruned)
    return token


def validator(config):
    """The hook undercloud/common/auth.py calls for every service: text -> RequestContext."""
    configure(config)

    def validate(text: str) -> RequestContext:
        try:
            return lookup(text).context()
        except InvalidToken as exc:
            LOG.debug("rejected a token: %s", exc)
            raise Unauthorized("The request you have made requires authentication.") from None
    return validate
