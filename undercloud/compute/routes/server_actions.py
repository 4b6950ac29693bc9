"""POST /servers/{id}/action: check the state, record the intent and an InstanceAction, cast.

Each action names the vm_states it may start from (Nova's check_instance_state) and the
task_state it sets; the manager on the server's host does the work and clears task_state.
"""
import logging
import secrets
from urllib.parse import urlencode

from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, Forbidden, NotFound
from undercloud.common.validation import check, json_body
from undercloud.compute import glance, policy, quotas, schemas, views
from undercloud.compute.models import Instance, KeyPair
from undercloud.compute.routes import security_groups
from undercloud.compute.routes.common import (computes, config, conflict_state, no_content,
                                              record_action, respond, rpc_context, scheduler)
from undercloud.compute.routes.flavors import find_flavor
from undercloud.compute.routes.servers import check_image, ip_address, last_part

blueprint = Blueprint("compute_server_actions", __name__)
LOG = logging.getLogger(__name__)

ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR, RESIZED, BUILDING = (
    "active", "stopped", "paused", "suspended", "error", "resized", "building")

# body key -> (Nova's action name, allowed vm_states, task_state set, rpcapi method)
SIMPLE = {
    "os-stop": ("stop", [ACTIVE, ERROR], "powering-off", "stop_instance"),
    "os-start": ("start", [STOPPED], "powering-on", "start_instance"),
    "pause": ("pause", [ACTIVE], "pausing", "pause_instance"),
    "unpause": ("unpause", [PAUSED], "unpausing", "unpause_instance"),
    "suspend": ("suspend", [ACTIVE], "suspending", "suspend_instance"),
    "resume": ("resume", [SUSPENDED], "resuming", "resume_instance"),
    "confirmResize": ("confirmResize", [RESIZED], None, "confirm_resize"),
    "revertResize": ("revertResize", [RESIZED], "resize_reverting", "revert_resize"),
}


def _begin(server, action: str, vm_states: list, task_state: str | None, **values):
    """Move the server into `task_state` only if no other task holds it (one UPDATE)."""
    if server.locked and not policy.allowed("servers:unlock:unlock_override",
                                            project_id=server.project_id):
        raise Conflict(f"Instance {server.id} is locked")
    if server.vm_state not in vm_states:
        raise conflict_state(server, action)
    if server.task_state is not None:
        raise conflict_state(server, action, "task_state")
    with db.transaction():
        changed = Instance.update(task_state=task_state, updated_at=db.utcnow(), **values) \
            .where(Instance.id == server.id, Instance.task_state.is_null(),
                   Instance.vm_state.in_(vm_states)).execute()
        if not changed:
            raise Conflict(f"Cannot '{action}' instance {server.id} while it is in "
                           f"task_state {Instance.get_by_id(server.id).task_state}")
        record_action(server, action)


def _cast(method: str, server, *args):
    if not server.host:
        raise Conflict(f"Instance {server.id} has no host yet; try again when it is ACTIVE.")
    try:
        getattr(computes(), method)(rpc_context(), server.host, server.id, *args)
    except Exception:  # noqa: BLE001 (the host reconciles task states it never heard of)
        LOG.exception("could not cast %s for %s", method, server.id)


def _reboot(server, body):
    kind = (body or {}).get("type", "")
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise BadRequest("Argument 'type' for reboot must be a string with value 'SOFT' or "
                         "'HARD'.")
    hard = kind.upper() == "HARD"
    states = [ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR] if hard else [ACTIVE]
    _begin(server, "reboot", states, "rebooting_hard" if hard else "rebooting")
    _cast("reboot_instance", server, hard)
    return no_content(202)


def _simple(server, key):
    action, states, task_state, method = SIMPLE[key]
    _begin(server, action, states, task_state)
    _cast(method, server)
    return no_content(204 if key == "confirmResize" else 202)


def _lock(server, body):
    reason = None
    if isinstance(body, dict) and body:
        if not views.at_least("2.73"):
            raise BadRequest("Invalid input for field/attribute lock: a body needs "
                             "microversion 2.73.")
        check(body, {"type": "object", "properties": {
            "locked_reason": {"type": "string", "maxLength": 255}},
            "additionalProperties": False})
        reason = body.get("locked_reason")
    locked_by = "owner" if server.project_id == g.context.project_id else "admin"
    Instance.update(locked=True, locked_by=locked_by, locked_reason=reason,
                    updated_at=db.utcnow()).where(Instance.id == server.id).execute()
    record_action(server, "lock")
    return no_content(202)


def _unlock(server):
    if server.locked and server.locked_by == "admin" and not policy.allowed(
            "servers:unlock:unlock_override", project_id=server.project_id):
        raise Forbidden("Policy doesn't allow os_compute_api:os-lock-server:unlock:"
                        "unlock_override to be performed.")
    Instance.update(locked=False, locked_by=None, locked_reason=None,
                    updated_at=db.utcnow()).where(Instance.id == server.id).execute()
    record_action(server, "unlock")
    return no_content(202)


def _rebuild(server, body):
    check(body, schemas.REBUILD)
    for name, version in (("description", "2.19"), ("key_name", "2.54"),
                          ("user_data", "2.57"), ("trusted_image_certificates", "2.63")):
        if name in body and not views.at_least(version):
            raise BadRequest(f"Invalid input for field/attribute rebuild. Additional properties "
                             f"are not allowed ('{name}' was unexpected)")
    image_id = last_part(body["imageRef"])
    check_image(image_id, server.flavor.get("memory_mb", 0), server.flavor.get("root_gb", 0))
    values = {"image_ref": image_id}
    if "name" in body:
        values["display_name"] = body["name"]
    if "metadata" in body:
        values["metadata"] = body["metadata"]
    if "description" in body:
        values["display_description"] = body["description"]
    if "accessIPv4" in body:
        values["access_ip_v4"] = ip_address(body["accessIPv4"], 4)
    if "accessIPv6" in body:
        values["access_ip_v6"] = ip_address(body["accessIPv6"], 6)
    if "user_data" in body:
        values["user_data"] = body["user_data"]
    if "key_name" in body:
        if body["key_name"] is None:
            values.update(key_name=None, key_data=None)
        else:
            keypair = KeyPair.get_or_none(KeyPair.user_id == g.context.user_id,
                                          KeyPair.name == body["key_name"])
            if keypair is None:
                raise BadRequest("Invalid key_name provided.")
            values.update(key_name=keypair.name, key_data=keypair.public_key)
    _begin(server, "rebuild", [ACTIVE, STOPPED, ERROR], "rebuilding", **values)
    _cast("rebuild_instance", server, image_id)
    rebuilt = Instance.get_by_id(server.id)
    shown = views.server(rebuilt, show=True, brief=True)
    shown.pop("OS-EXT-SRV-ATTR:user_data", None)  # rebuild shows user_data itself (2.57)
    if views.at_least("2.54"):
        shown.setdefault("key_name", rebuilt.key_name)
    if views.at_least("2.57"):
        shown["user_data"] = rebuilt.user_data
    shown["adminPass"] = body.get("adminPass") or secrets.token_urlsafe(9)
    return respond({"server": shown}, 202)


def _resize(server, body):
    if not isinstance(body, dict) or "flavorRef" not in body or body["flavorRef"] in (None, ""):
        raise BadRequest("Resize requires a flavor change.")
    flavor_ref = last_part(body["flavorRef"])
    try:
        flavor = find_flavor(flavor_ref)
    except NotFound:
        raise BadRequest(f"Flavor {flavor_ref} could not be found.") from None
    current = server.flavor or {}
    if flavor.flavorid == current.get("flavorid"):
        raise BadRequest("When resizing, instances must change flavor!")
    if flavor.root_gb < current.get("root_gb", 0):
        raise BadRequest("Resize to zero disk flavor is not allowed." if flavor.root_gb == 0
                         else "Flavor's disk is too small for requested image.")
    new_flavor = views.flavor_snapshot(flavor)
    quotas.check_resize(config(), server.project_id, current, new_flavor)
    _begin(server, "resize", [ACTIVE, STOPPED], "resize_prep", new_flavor=new_flavor,
           old_flavor=current)
    try:
        scheduler().resize_instance(rpc_context(), server.id, new_flavor)
    except Exception:  # noqa: BLE001
        LOG.exception("could not cast resize_instance for %s", server.id)
    return no_content(202)


def _snapshot(server, action: str, name: str, properties: dict):
    """A queued image owned by the caller, then the host's snapshot into it (Nova's order)."""
    if server.vm_state not in (ACTIVE, STOPPED, PAUSED, SUSPENDED):
        raise conflict_state(server, action)
    if server.task_state is not None:
        raise conflict_state(server, action, "task_state")
    image = glance.create_image(config(), g.context.token, {
        "name": name, "container_format": "bare", "disk_format": "qcow2",
        "instance_uuid": server.id, "base_image_ref": server.image_ref or "",
        "owner_user_name": g.context.user_name or g.context.user_id, **properties})
    try:
        _begin(server, action, [ACTIVE, STOPPED, PAUSED, SUSPENDED], "image_snapshot_pending")
    except Conflict:
        glance.delete_image(config(), g.context.token, image["id"])
        raise
    _cast("snapshot_instance", server, image["id"])
    if views.at_least("2.45"):
        return respond({"image_id": image["id"]}, 202)
    location = f"{config().endpoint('image')}/v2/images/{image['id']}"
    return respond(None, 202, {"Location": location})


def _create_image(server, body):
    check(body, {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "metadata": {"type": "object"}}, "required": ["name"], "additionalProperties": False})
    properties = {str(k): str(v) for k, v in (body.get("metadata") or {}).items()}
    # As in Nova, the caller's metadata may set image_type too.
    return _snapshot(server, "createImage", body["name"],
                     {"image_type": "snapshot", **properties})


def _rotate_backups(server, backup_type: str, rotation: int):
    """Delete the oldest backups of this type so `rotation` remain (never the new one)."""
    query = urlencode({"instance_uuid": server.id, "image_type": "backup",
                       "backup_type": backup_type, "sort_key": "created_at",
                       "sort_dir": "desc"})
    backups = glance.list_images(config(), g.context.token, query).get("images", [])
    for old in backups[max(rotation, 1):]:
        glance.delete_image(config(), g.context.token, old["id"])


def _create_backup(server, body):
    check(body, {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "backup_type": {"type": "string"},
        "rotation": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 0},
        "metadata": {"type": "object"}},
        "required": ["name", "backup_type", "rotation"], "additionalProperties": False})
    policy.enforce("servers:create_backup", project_id=server.project_id)
    properties = {str(k): str(v) for k, v in (body.get("metadata") or {}).items()}
    answer = _snapshot(server, "createBackup", body["name"], {
        **properties, "image_type": "backup", "backup_type": body["backup_type"]})
    _rotate_backups(server, body["backup_type"], int(body["rotation"]))
    return answer


def _console_output(server, body):
    length = (body or {}).get("length")
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise BadRequest(f"Invalid input for field/attribute length. Value: {length}.") \
                from None
        if length < -1:
            raise BadRequest(f"Invalid input for field/attribute length. Value: {length}.")
        if length == -1:
            length = None
    if server.vm_state not in (ACTIVE, STOPPED, PAUSED, SUSPENDED, RESIZED) or not server.host:
        raise Conflict(f"Instance {server.id} is not ready")
    try:
        output = computes().get_console_output(rpc_context(), server.host, server.id, length)
    except Exception as exc:  # noqa: BLE001 (the host is down or the domain has no log)
        LOG.warning("console output of %s failed: %s", server.id, exc)
        raise Conflict(f"Instance {server.id} is not ready: its host did not answer.") \
            from None
    return respond({"output": output or ""})


def _reset_state(server, body):
    """Admin's way out of a stuck task: vm_state active or error, task_state cleared."""
    policy.enforce("servers:reset_state", project_id=server.project_id)
    state = (body or {}).get("state") if isinstance(body, dict) else None
    if state not in ("active", "error"):
        raise BadRequest("Invalid input for field/attribute state. It must be one of: "
                         "active, error")
    Instance.update(vm_state=state, task_state=None, updated_at=db.utcnow()).where(
        Instance.id == server.id).execute()
    record_action(server, "resetState")
    return no_content(202)


@blueprint.post("/v2.1/servers/<server_id>/action")
def server_action(server_id):
    body = json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Invalid input: a server action is an object with exactly one key.")
    (key, value), = body.items()
    server = policy.find_server(server_id)
    if key == "os-getConsoleOutput":
        policy.enforce("servers:console_output", project_id=server.project_id)
        return _console_output(server, value)
    policy.enforce("servers:action", project_id=server.project_id)
    if key == "reboot":
        return _reboot(server, value)
    if key in SIMPLE:
        return _simple(server, key)
    if key == "lock":
        return _lock(server, value)
    if key == "unlock":
        return _unlock(server)
    if key == "rebuild":
        if not isinstance(value, dict):
            raise BadRequest("Invalid input for field/attribute rebuild.")
        return _rebuild(server, value)
    if key == "resize":
        return _resize(server, value)
    if key in ("restore", "forceDelete"):
        # Nothing is soft-deleted here (reclaim_instance_interval is 0), as Nova answers then.
        raise conflict_state(server, key)
    if key == "os-resetState":
        return _reset_state(server, value)
    if key == "createBackup":
        if not isinstance(value, dict):
            raise BadRequest("Invalid input for field/attribute createBackup.")
        return _create_backup(server, value)
    if key == "createImage":
        if not isinstance(value, dict):
            raise BadRequest("Invalid input for field/attribute createImage.")
        return _create_image(server, value)
    if key in ("addSecurityGroup", "removeSecurityGroup"):
        return security_groups.server_action(server, key, value)
    raise BadRequest(f"There is no such action: {key}")
