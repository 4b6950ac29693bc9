"""The ramdisk's heartbeats: each answers with the next command for the node's state and
what the previous command reported.

Progress sits in driver_internal_info["agent_step"] = {"name", "status": "issued" |
"succeeded" | "failed", "error"}, reset whenever the node boots a ramdisk again (boot.py).
A reported result is written there first, even while another operation holds the node, so
it is never lost; acting on it (finishing the deploy or the cleaning, or failing) needs the
node's reservation and happens on this heartbeat, a later one, or the conductor's next pass.
A step is issued again only while it is unfinished (the ramdisk restarted without a result),
never once it succeeded or failed, so repeated heartbeats are harmless.
"""
import logging

from undercloud import db
from undercloud.baremetal import locks, states
from undercloud.baremetal.flows import boot, clean, deploy, nodes
from undercloud.baremetal.models import Node

LOG = logging.getLogger("undercloud.baremetal.conductor")
STEP_NOTE = "agent_step"
# The wait state -> the one step its ramdisk runs, and the flow that finishes after it.
STEPS = {states.DEPLOY_WAIT: "write_image", states.CLEAN_WAIT: "erase_devices"}
FINISH = {states.DEPLOY_WAIT: deploy.finish, states.CLEAN_WAIT: clean.finish}
FAILURES = {"write_image": "Deploy step write_image failed on node {node}: {error}",
            "erase_devices": "Clean step erase_devices failed on node {node}: {error}"}
DONE = ("succeeded", "failed")


def _progress(node) -> dict:
    return (node.driver_internal_info or {}).get(STEP_NOTE) or {}


def heartbeat(conductor, node_id: str, payload: dict) -> dict | None:
    """The command for the ramdisk, or None; records agent_last_heartbeat."""
    payload = payload if isinstance(payload, dict) else {}
    node = nodes.get(node_id)
    nodes.note(node_id, agent_last_heartbeat=db.utcnow().isoformat(),
               agent_version=str(payload.get("agent_version") or ""))
    step = STEPS.get(node.provision_state)
    result = payload.get("command_result")
    progress = _progress(node)
    if step and progress.get("name") == step and progress.get("status") == "issued" and \
            isinstance(result, dict) and result.get("name") == step:
        _record(node_id, progress, result)
    if not step or not locks.try_reserve(node_id, conductor.host):
        return None   # nothing to do, or another operation holds the node: ask again later
    handed_over = False
    try:
        node = nodes.get(node_id)
        step = STEPS.get(node.provision_state)
        if step is None:
            return None
        if _finished(node):
            handed_over = _act(conductor, node)
            return None
        nodes.note(node_id, **{STEP_NOTE: {"name": step, "status": "issued",
                                           "issued_at": db.utcnow().isoformat()}})
        LOG.info("node %s: the ramdisk is asked to %s", node_id, step)
        return deploy.write_image_command(node) if step == "write_image" \
            else {"name": step, "params": {}}
    finally:
        if not handed_over:
            locks.release(node_id, conductor.host)


def _record(node_id: str, issued: dict, result: dict) -> None:
    """Keep the issued step's result; not if the node moved on to another ramdisk boot."""
    succeeded = result.get("status") == "SUCCEEDED"
    if nodes.note(node_id, only_if={STEP_NOTE: issued}, **{STEP_NOTE: {
            "name": issued["name"], "status": "succeeded" if succeeded else "failed",
            "error": None if succeeded else str(result.get("error") or "no reason given")}}):
        LOG.info("node %s: the ramdisk %s %s", node_id,
                 "finished" if succeeded else "failed", issued["name"])


def _finished(node) -> bool:
    """The node waits on its ramdisk's step, and the step's result is in."""
    progress = _progress(node)
    return progress.get("name") == STEPS.get(node.provision_state) and \
        progress.get("status") in DONE


def _act(conductor, node) -> bool:
    """Finish or fail after the step's recorded result (the node is reserved by us);
    True when a flow took over the reservation."""
    state = node.provision_state
    progress = _progress(node)
    if progress.get("status") == "succeeded":
        if nodes.move(node.id, state, "resume") is None:
            return False
        conductor.submit_reserved(node.id, FINISH[state], conductor, node.id)
        return True
    message = FAILURES[progress["name"]].format(node=node.id, error=progress.get("error"))
    conductor.submit_reserved(node.id, boot.give_up, conductor, node.id, state, message)
    return True


def act_on_results(conductor) -> list[str]:
    """The conductor's pass: waiting nodes whose ramdisk reported a result that nobody acted
    on yet (every heartbeat since met the node held). Returns their ids."""
    acted = []
    waiting = Node.select().where(Node.provision_state.in_(list(STEPS)),
                                  Node.reservation.is_null())
    for node in [node for node in waiting if _finished(node)]:
        if not locks.try_reserve(node.id, conductor.host):
            continue
        node = nodes.get(node.id)
        if _finished(node) and _act(conductor, node):
            acted.append(node.id)
        else:
            locks.release(node.id, conductor.host)
    return acted
