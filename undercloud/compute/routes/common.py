"""What every compute route needs: the config, the bus clients, JSON answers and intent records."""
from flask import current_app, g, jsonify

from undercloud.common.errors import BadRequest, Conflict
from undercloud.compute import rpcapi
from undercloud.compute.models import InstanceAction
from undercloud.network.rpcapi import ServerAPI

_CLIENTS: dict = {}


def config():
    return current_app.config["STACKBOX"]


def _client(kind):
    key = (kind, id(config()))
    if key not in _CLIENTS:
        _CLIENTS[key] = kind(config())
    return _CLIENTS[key]


def scheduler() -> rpcapi.SchedulerAPI:
    return _client(rpcapi.SchedulerAPI)


def computes() -> rpcapi.ComputeAPI:
    return _client(rpcapi.ComputeAPI)


def network() -> ServerAPI:
    """The network server, which checks and makes the ports of servers."""
    return _client(ServerAPI)


def rpc_context() -> dict:
    """The caller as the managers see it: their token lets a manager act on images as them."""
    context = g.context
    return {"user_id": context.user_id, "project_id": context.project_id,
            "roles": list(context.roles), "token": context.token, "request_id": g.request_id}


def respond(document, status: int = 200, headers: dict | None = None):
    response = jsonify(document) if document is not None else current_app.response_class(
        status=status)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def no_content(status: int = 204):
    return current_app.response_class(status=status)


def record_action(instance, action: str):
    """An InstanceAction row under this request's id; the managers add its events."""
    InstanceAction.create(instance=instance.id, action=action, request_id=g.request_id,
                          user_id=g.context.user_id, project_id=g.context.project_id)


def conflict_state(instance, action: str, attribute: str = "vm_state"):
    value = getattr(instance, attribute)
    return Conflict(f"Cannot '{action}' instance {instance.id} while it is in "
                    f"{attribute} {value}")


def integer_arg(args, name: str, minimum: int = 0) -> int | None:
    text = args.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {text}. "
                         f"'{text}' is not an integer") from None
    if value < minimum:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {text}. "
                         f"{value} is less than the minimum of {minimum}")
    return value
