"""A node's states: GET /states, and PUT /states/provision and /states/power.

The API records the intent (the verb's first state and its target, or the target power
state) in one short conditional write, then casts the work to the conductor. A node the
conductor holds (reservation set) answers 409 NodeLocked, which clients retry.
"""
from flask import Blueprint

from undercloud import db
from undercloud.baremetal import configdrive, schemas, states, views
from undercloud.baremetal.models import Node
from undercloud.baremetal.routes.common import (at_least, conductor, node_for, node_locked,
                                                no_content, require, respond, rpc_context,
                                                to_bool)
from undercloud.common import validation
from undercloud.common.errors import BadRequest, Conflict
from undercloud.common.versions import base_url

blueprint = Blueprint("baremetal_node_states", __name__)

# Newer names of old verbs (1.73), and the microversion each verb needs (Ironic's).
ALIASES = {"deploy": states.DEPLOY, "undeploy": states.UNDEPLOY}
VERB_VERSIONS = {states.MANAGE: 4, states.PROVIDE: 4, states.INSPECT: 6, states.ABORT: 13,
                 states.CLEAN: 15, "adopt": 17, "rescue": 38, "unrescue": 38, "deploy": 73,
                 "undeploy": 73, "unhold": 85, "service": 87}
DEPLOYING_VERBS = (states.DEPLOY, states.REBUILD)
# The state a power target leaves the node in (Ironic's target_power_state).
POWER_TARGET_STATE = {"power on": states.POWER_ON, "rebooting": states.POWER_ON,
                      "soft rebooting": states.POWER_ON, "power off": states.POWER_OFF,
                      "soft power off": states.POWER_OFF}


def _states_location(ident: str) -> dict:
    return {"Location": f"{base_url()}/v1/nodes/{ident}/states"}


@blueprint.get("/v1/nodes/<ident>/states")
def show(ident):
    node = node_for("baremetal:node:get_states", ident)
    return respond(views.node_states(node))


def _verb(target: str) -> str:
    if target not in (*states.VERB_NAMES, *ALIASES):
        raise BadRequest(f"The requested action \"{target}\" could not be understood.")
    if target in VERB_VERSIONS:
        require(VERB_VERSIONS[target])
    return ALIASES.get(target, target)


def _check_steps(steps, kind: str):
    for step in steps:
        if not isinstance(step, dict) or not isinstance(step.get("interface"), str) \
                or not isinstance(step.get("step"), str):
            raise BadRequest(f"Invalid {kind}: each step is an object with 'interface' and "
                             "'step' (and optional 'args').")


def _params(node: Node, verb: str, body: dict) -> dict:
    """What the conductor needs besides the verb; 400 for parameters the verb does not take."""
    if body.get("configdrive"):
        _check_configdrive(verb, body["configdrive"])
    if body.get("clean_steps") and verb != states.CLEAN:
        raise BadRequest(f"\"clean_steps\" is only valid when setting target provision state "
                         f"to {states.CLEAN}")
    if verb == states.CLEAN:
        if not body.get("clean_steps"):
            raise BadRequest(f"\"clean_steps\" is required when setting target provision "
                             f"state to {states.CLEAN}")
        _check_steps(body["clean_steps"], "clean_steps")
    if body.get("deploy_steps"):
        require(69)
        if verb not in DEPLOYING_VERBS:
            raise BadRequest("\"deploy_steps\" is only valid when setting target provision "
                             "state to active or rebuild")
        _check_steps(body["deploy_steps"], "deploy_steps")
    if body.get("rescue_password") is not None and verb != "rescue":
        raise BadRequest("\"rescue_password\" is only valid when setting target provision "
                         "state to rescue")
    if body.get("service_steps") and verb != "service":
        raise BadRequest("\"service_steps\" is only valid when setting target provision "
                         "state to service")
    if body.get("disable_ramdisk") is not None:
        require(70)
        if verb not in (states.CLEAN, "service") and to_bool("disable_ramdisk",
                                                             body["disable_ramdisk"]):
            raise BadRequest("\"disable_ramdisk\" is supported only with manual cleaning and "
                             "servicing")
    if body.get("runbook"):
        raise BadRequest(f"Runbook {body['runbook']} could not be found: this cloud has no "
                         "runbooks.")
    if verb in DEPLOYING_VERBS and not (node.instance_info or {}).get("image_source"):
        raise BadRequest(f"Cannot validate image information for node {node.id} because one "
                         "or more parameters are missing from its instance_info and "
                         "insufficient information is present to boot from a remote volume. "
                         "Missing are: ['image_source']")
    return {key: body[key] for key in ("configdrive", "clean_steps", "deploy_steps")
            if body.get(key)}


def _check_configdrive(verb: str, value) -> None:
    """Ironic's check_allow_configdrive: the verbs and microversions that take one, and its
    form (configdrive.py); never quoting it, as it may hold secrets."""
    allowed = [states.DEPLOY] + ([states.REBUILD] if at_least(35) else [])
    if verb not in allowed:
        raise BadRequest(f"Adding a config drive is only supported when setting provision "
                         f"state to {', '.join(allowed)}")
    try:
        configdrive.check(value)
    except configdrive.InvalidConfigDrive as exc:
        raise BadRequest(f"Invalid configdrive format: {exc}") from None
    if isinstance(value, dict) and not at_least(56):
        raise BadRequest("Providing a JSON object for configdrive is only supported starting "
                         "with API version 1.56")
    if isinstance(value, dict) and "vendor_data" in value and not at_least(59):
        raise BadRequest("Providing vendor_data in configdrive is only supported starting "
                         "with API version 1.59")


def _transition(node: Node, verb: str) -> tuple[str, str | None]:
    """(state now, target) for the verb, or Ironic's answer when the node cannot take it."""
    if verb in DEPLOYING_VERBS and node.maintenance:
        raise BadRequest(f"The provisioning operation can't be performed on node {node.id} "
                         "because it's in maintenance mode.")
    if verb == states.CLEAN and node.maintenance:
        raise BadRequest(f"The cleaning operation can't be performed on node {node.id} "
                         "because it's in maintenance mode.")
    try:
        move = states.apply_verb(node.provision_state, verb)
    except states.InvalidTransition:
        if node.reservation:
            raise node_locked(node) from None
        allowed = ", ".join(states.allowed_verbs(node.provision_state)) or "none"
        raise BadRequest(f"The requested action \"{verb}\" can not be performed on node "
                         f"\"{node.id}\" while it is in state \"{node.provision_state}\". "
                         f"Allowed here: {allowed}.") from None
    if node.reservation:
        raise node_locked(node)
    return move


@blueprint.put("/v1/nodes/<ident>/states/provision")
def provision(ident):
    node = node_for("baremetal:node:set_provision_state", ident)
    body = validation.json_body()
    schemas.check(body, schemas.PROVISION)
    verb = _verb(body["target"])
    state, target = _transition(node, verb)
    params = _params(node, verb, body)
    now = db.utcnow()
    with db.transaction():
        recorded = (Node.update(provision_state=state, target_provision_state=target,
                                provision_updated_at=now, last_error=None, updated_at=now)
                    .where((Node.id == node.id) & (Node.provision_state == node.provision_state)
                           & Node.reservation.is_null())
                    .execute())
    if not recorded:
        current = Node.get_by_id(node.id)
        if current.reservation:
            raise node_locked(current)
        raise Conflict(f"Node {node.id} moved to state \"{current.provision_state}\" while "
                       "this request was made; look at it again and retry.")
    conductor().do_provisioning_action(rpc_context(), node.id, verb, params)
    return no_content(202, _states_location(ident))


@blueprint.put("/v1/nodes/<ident>/states/power")
def power(ident):
    node = node_for("baremetal:node:set_power_state", ident)
    body = validation.json_body()
    schemas.check(body, schemas.POWER)
    target, timeout = body["target"], body.get("timeout")
    if target.startswith("soft") or timeout is not None:
        require(27)
    if timeout is not None and timeout < 1:
        raise BadRequest("timeout has to be positive integer")
    if target not in states.POWER_TARGETS:
        raise BadRequest(f"The requested action \"{target}\" can not be performed on node "
                         f"\"{ident}\" while it is in state \"{node.power_state}\".")
    if node.provision_state in (states.CLEANING, states.CLEAN_WAIT):
        raise BadRequest(f"The requested action \"{target}\" can not be performed on node "
                         f"\"{ident}\" while it is in state \"{node.provision_state}\".")
    if not (node.driver_info or {}).get("ipmi_address"):
        raise BadRequest("Missing the following IPMI credentials in node's driver_info: "
                         "['ipmi_address'].")
    if node.reservation:
        raise node_locked(node)
    with db.transaction():
        recorded = (Node.update(target_power_state=POWER_TARGET_STATE[target],
                                updated_at=db.utcnow())
                    .where((Node.id == node.id) & Node.reservation.is_null()).execute())
    if not recorded:
        raise node_locked(Node.get_by_id(node.id))
    conductor().change_power_state(rpc_context(), node.id, target, timeout)
    return no_content(202, _states_location(ident))
