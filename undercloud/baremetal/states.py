"""Ironic's provision state machine: the states, the verbs users send, and where each leads.

``VERBS[(state, verb)]`` is the state a user's verb (PUT /v1/nodes/{id}/states/provision
{"target": verb}) moves the node to at once, with the stable state it aims for
(target_provision_state). ``EVENTS[(state, event)]`` are the conductor's own moves as work
finishes ("done"), fails ("fail"), or waits for the ramdisk ("wait"). Anything else is a
400 naming the state and what it allows, as Ironic answers (a 409 would make
python-ironicclient retry it for ten seconds).
"""
ENROLL = "enroll"
VERIFYING = "verifying"
MANAGEABLE = "manageable"
INSPECTING = "inspecting"
INSPECT_WAIT = "inspect wait"
INSPECT_FAILED = "inspect failed"
CLEANING = "cleaning"
CLEAN_WAIT = "clean wait"
CLEAN_FAILED = "clean failed"
AVAILABLE = "available"
DEPLOYING = "deploying"
DEPLOY_WAIT = "wait call-back"
DEPLOY_FAILED = "deploy failed"
ACTIVE = "active"
DELETING = "deleting"
ERROR = "error"

STABLE = (ENROLL, MANAGEABLE, AVAILABLE, ACTIVE, ERROR)
FAILED = (INSPECT_FAILED, CLEAN_FAILED, DEPLOY_FAILED)
# States in which the conductor is working; a conductor that restarts finds nodes here and
# fails them with a clear last_error, so the user can retry (Ironic does the same).
TRANSIENT = (VERIFYING, INSPECTING, INSPECT_WAIT, CLEANING, CLEAN_WAIT, DEPLOYING,
             DEPLOY_WAIT, DELETING)
WAITING = (INSPECT_WAIT, CLEAN_WAIT, DEPLOY_WAIT)

# The API's verbs ("target" values) and the clients' names for them.
MANAGE, PROVIDE, INSPECT, CLEAN = "manage", "provide", "inspect", "clean"
DEPLOY, UNDEPLOY, REBUILD, ABORT = "active", "deleted", "rebuild", "abort"
VERB_NAMES = (MANAGE, PROVIDE, INSPECT, CLEAN, DEPLOY, UNDEPLOY, REBUILD, ABORT,
              "adopt", "rescue", "unrescue", "service", "unhold")

# (state, verb) -> (state now, target_provision_state)
VERBS = {
    (ENROLL, MANAGE): (VERIFYING, MANAGEABLE),
    (MANAGEABLE, MANAGE): None,                     # already there: refused, like Ironic
    (MANAGEABLE, INSPECT): (INSPECTING, MANAGEABLE),
    (MANAGEABLE, PROVIDE): (CLEANING, AVAILABLE),
    (MANAGEABLE, CLEAN): (CLEANING, MANAGEABLE),
    (INSPECT_FAILED, MANAGE): (MANAGEABLE, None),
    (INSPECT_FAILED, INSPECT): (INSPECTING, MANAGEABLE),
    (INSPECT_WAIT, ABORT): (INSPECT_FAILED, None),
    (CLEAN_FAILED, MANAGE): (MANAGEABLE, None),
    (CLEAN_WAIT, ABORT): (CLEAN_FAILED, None),
    (AVAILABLE, MANAGE): (MANAGEABLE, None),
    (AVAILABLE, DEPLOY): (DEPLOYING, ACTIVE),
    (DEPLOY_WAIT, ABORT): (DEPLOY_FAILED, None),
    (DEPLOY_FAILED, DEPLOY): (DEPLOYING, ACTIVE),
    (DEPLOY_FAILED, REBUILD): (DEPLOYING, ACTIVE),
    (DEPLOY_FAILED, UNDEPLOY): (DELETING, AVAILABLE),
    (ACTIVE, REBUILD): (DEPLOYING, ACTIVE),
    (ACTIVE, UNDEPLOY): (DELETING, AVAILABLE),
    (ERROR, REBUILD): (DEPLOYING, ACTIVE),
    (ERROR, UNDEPLOY): (DELETING, AVAILABLE),
}

# (state, event) -> state; the target is cleared on reaching a stable or failed state.
EVENTS = {
    (VERIFYING, "done"): MANAGEABLE,
    (VERIFYING, "fail"): ENROLL,
    (INSPECTING, "wait"): INSPECT_WAIT,
    (INSPECTING, "done"): MANAGEABLE,
    (INSPECTING, "fail"): INSPECT_FAILED,
    (INSPECT_WAIT, "done"): MANAGEABLE,
    (INSPECT_WAIT, "fail"): INSPECT_FAILED,
    (CLEANING, "wait"): CLEAN_WAIT,
    (CLEANING, "done"): None,          # to the target: available (provide) or manageable
    (CLEANING, "fail"): CLEAN_FAILED,
    (CLEAN_WAIT, "resume"): CLEANING,
    (CLEAN_WAIT, "done"): None,
    (CLEAN_WAIT, "fail"): CLEAN_FAILED,
    (DEPLOYING, "wait"): DEPLOY_WAIT,
    (DEPLOYING, "done"): ACTIVE,
    (DEPLOYING, "fail"): DEPLOY_FAILED,
    (DEPLOY_WAIT, "resume"): DEPLOYING,
    (DEPLOY_WAIT, "done"): ACTIVE,
    (DEPLOY_WAIT, "fail"): DEPLOY_FAILED,
    (DELETING, "done"): CLEANING,      # then cleaning's own events lead to available
    (DELETING, "fail"): ERROR,
}

# A node's power, as the API shows it.
POWER_ON, POWER_OFF, REBOOT = "power on", "power off", "rebooting"
POWER_TARGETS = ("power on", "power off", "rebooting", "soft power off", "soft rebooting")


class InvalidTransition(Exception):
    """The verb is not allowed in the node's state (a 400 at the API, as Ironic)."""


def allowed_verbs(state: str) -> list[str]:
    return sorted(verb for (source, verb), move in VERBS.items() if source == state and move)


def apply_verb(state: str, verb: str) -> tuple[str, str | None]:
    """(new provision_state, target_provision_state) for a user's verb, or InvalidTransition."""
    move = VERBS.get((state, verb))
    if move is None:
        allowed = ", ".join(allowed_verbs(state)) or "none"
        raise InvalidTransition(f"The requested action \"{verb}\" can not be performed on a "
                                f"node in state \"{state}\" (allowed here: {allowed}).")
    return move


def apply_event(state: str, event: str, target: str | None) -> str:
    """The state after the conductor's event; "done" in cleaning goes to the node's target."""
    if (state, event) not in EVENTS:
        raise InvalidTransition(f"event {event!r} does not apply to state {state!r}")
    new = EVENTS[(state, event)]
    return new if new is not None else (target or AVAILABLE)
