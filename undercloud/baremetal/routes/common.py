"""What every bare metal route needs: the config, the conductor, query arguments, nodes by
uuid or name, and the conductor's answers in Ironic's terms."""
import datetime
import uuid
from urllib.parse import urlencode

from flask import current_app, g, jsonify, request

from undercloud.baremetal import policy, rpcapi
from undercloud.baremetal.models import Conductor, Node
from undercloud.bus import BusError, NoPeer, RemoteError
from undercloud.common import errors
from undercloud.common.errors import BadRequest, Conflict, NotAcceptable, NotFound
from undercloud.common.versions import base_url
from undercloud.db import utcnow

_CONDUCTORS: dict = {}
# A conductor whose row was not refreshed for this long is dead (Ironic's heartbeat_timeout).
CONDUCTOR_ALIVE_SECONDS = 60
_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def config():
    return current_app.config["STACKBOX"]


def conductor() -> rpcapi.ConductorAPI:
    key = id(config())
    if key not in _CONDUCTORS:
        _CONDUCTORS[key] = rpcapi.ConductorAPI(config())
    return _CONDUCTORS[key]


def rpc_context() -> dict:
    """The caller as the conductor sees it: the token lets it read Glance images as them."""
    context = g.context
    return {"user_id": context.user_id, "project_id": context.project_id,
            "roles": list(context.roles), "token": context.token, "request_id": g.request_id}


def respond(document, status: int = 200, headers: dict | None = None):
    response = jsonify(document)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def no_content(status: int = 204, headers: dict | None = None):
    response = current_app.response_class(status=status)
    response.headers.update(headers or {})
    return response


def at_least(minor: int) -> bool:
    return g.api_version.minor >= minor


def require(minor: int):
    """406, as Ironic answers a request its microversion does not have yet."""
    if not at_least(minor):
        raise NotAcceptable(f"Request not acceptable: this needs API version 1.{minor} or "
                            f"newer (X-OpenStack-Ironic-API-Version).")


def endpoint_since(minor: int):
    """404 for an endpoint an older microversion does not have."""
    if not at_least(minor):
        raise NotFound(f"The resource could not be found before API version 1.{minor}.")


def as_uuid(text) -> str | None:
    """The canonical dashed form of a UUID, or None when `text` is not one."""
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        return None


def to_bool(name: str, value) -> bool:
    """Ironic's booleans: true/false, or their usual spellings as strings."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadRequest(f"Invalid value for {name}: Unrecognized value '{value}', acceptable "
                     f"values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', "
                     f"'true', 'y', 'yes'")


def bool_arg(name: str) -> bool | None:
    value = request.args.get(name)
    return None if value is None else to_bool(name, value)


def fields_arg(allowed: set[str], versions: dict) -> list[str] | None:
    """?fields=a,b: 400 for unknown fields, 406 for fields newer than the request's version."""
    text = request.args.get("fields")
    if text is None:
        return None
    require(8)
    fields = [field.strip() for field in text.split(",") if field.strip()]
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise BadRequest(f"Field(s) \"{', '.join(unknown)}\" are not valid")
    if any(not at_least(versions.get(field, 0)) for field in fields):
        raise NotAcceptable("Request not acceptable: a requested field is newer than the "
                            "requested API version.")
    return fields


def limit_arg() -> int:
    """?limit=: positive, at most the configured page size (Ironic's max_limit)."""
    maximum = config()["api"]["max_page_size"]
    text = request.args.get("limit")
    if text is None:
        return maximum
    try:
        limit = int(text)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameter limit: '{text}' is not an "
                         f"integer") from None
    if limit <= 0:
        raise BadRequest("Limit must be positive")
    return min(limit, maximum)


def next_href(rows: list, limit: int) -> str | None:
    """The link to the next page when this one is full: the same query after its last row."""
    if len(rows) != limit:
        return None
    args = [(key, value) for key, value in request.args.items(multi=True)
            if key not in ("limit", "marker")]
    query = urlencode(args + [("limit", limit), ("marker", rows[-1].id)])
    return f"{base_url()}{request.path}?{query}"


def find_node(ident: str) -> Node:
    """A node by UUID, or by name from 1.5 on; 404 naming what was asked for."""
    node_id = as_uuid(ident)
    if node_id is not None:
        node = Node.get_or_none(Node.id == node_id)
    elif at_least(5):
        node = Node.get_or_none(Node.name == ident)
    else:
        raise BadRequest(f"Expected a UUID but received {ident}.")
    if node is None:
        raise NotFound(f"Node {ident} could not be found.")
    return node


def node_for(action: str, ident: str) -> Node:
    """The node a caller may see and act on with `action` (404 / 403 otherwise)."""
    node = find_node(ident)
    if not policy.allowed("baremetal:node:get", node):
        raise NotFound(f"Node {ident} could not be found.")
    policy.enforce(action, node, ident)
    return node


def node_locked(node: Node) -> Conflict:
    return Conflict(f"Node {node.id} is locked by host {node.reservation}, please retry after "
                    f"the current operation is completed.")


def alive_conductors() -> list[Conductor]:
    since = utcnow() - datetime.timedelta(seconds=CONDUCTOR_ALIVE_SECONDS)
    return list(Conductor.select().where(Conductor.online & (Conductor.updated_at >= since))
                .order_by(Conductor.hostname))


def is_alive(row: Conductor) -> bool:
    since = utcnow() - datetime.timedelta(seconds=CONDUCTOR_ALIVE_SECONDS)
    return bool(row.online and row.updated_at >= since)


def conductor_by_group(alive: list[Conductor]) -> dict[str, str]:
    """conductor_group -> the hostname serving it (the first alive one, as a hash ring would)."""
    hosts: dict[str, str] = {}
    for row in alive:
        hosts.setdefault(row.conductor_group or "", row.hostname)
    return hosts


def ask_conductor(node: Node, call):
    """The result of `call()` on the conductor, with its errors in Ironic's terms."""
    try:
        return call()
    except rpcapi.InvalidParameterValue as exc:
        raise BadRequest(str(exc)) from None
    except (rpcapi.NodeLocked, rpcapi.InvalidState) as exc:
        raise Conflict(str(exc)) from None
    except NoPeer:
        raise errors.ServiceUnavailable(f"No conductor is running for node {node.id} (driver "
                                        f"{node.driver}); start baremetal-conductor and retry."
                                        ) from None
    except RemoteError as exc:
        current_app.extensions["stackbox"]["log"].warning(
            "conductor failed on node %s: %s", node.id, exc.exc_type)
        error = errors.ApiError(exc.message or exc.exc_type)
        raise error from None
    except BusError as exc:
        raise errors.ServiceUnavailable(f"The conductor did not answer for node {node.id}: "
                                        f"{exc}") from None


def sort_args(default_key: str = "id") -> tuple[str, str]:
    """(sort_key, sort_dir) of a listing, the direction checked as Ironic does."""
    key = request.args.get("sort_key", default_key)
    direction = request.args.get("sort_dir", "asc")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}. Acceptable values are 'asc' or "
                         "'desc'")
    return key, direction
