"""The ramdisk's heartbeats: each answers with the next command for the node's state and
what the previous command reported.

Progress sits in driver_internal_info["agent_step"] = {"name", "status": "issued" |
"succeeded" | "failed"}, reset whenever the node boots a ramdisk again (boot.py). A step is
issued again only while it is unfinished (the ramdisk restarted without a result), never once
it succeeded or failed, so repeated heartbeats are harmless.
"""
import logging

from undercloud import db
from undercloud.baremetal import locks, states
from undercloud.baremetal.flows import boot, clean, deploy, nodes

LOG = logging.getLogger("undercloud.baremetal.conductor")
STEP_NOTE = "agent_step"
# The wait state -> the one step its ramdisk runs, and the flow that finishes after it.
STEPS = {states.DEPLOY_WAIT: "write_image", states.CLEAN_WAIT: "erase_devices"}
FINISH = {states.DEPLOY_WAIT: deploy.finish, states.CLEAN_WAIT: clean.finish}
FAILURES = {"write_image": "Deploy step write_image failed on node {node}: {error}",
            "erase_devices": "Clean step erase_devices failed on node {node}: {error}"}


def heartbeat(conductor, node_id: str, payload: dict) -> dict | None:
    """The command for the ramdisk, or None; records agent_last_heartbeat."""
    payload = payload if isinstance(payload, dict) else {}
    node = nodes.get(node_id)
    nodes.note(node_id, agent_last_heartbeat=db.utcnow().isoformat(),
               agent_version=str(payload.get("agent_version") or ""))
    if node.provision_state not in STEPS:
        return None
    if not locks.try_reserve(node_id, conductor.host):
        return None   # another operation holds the node; the next heartbeat asks again
    handed_over = False
    try:
        node = nodes.get(node_id)
        state = node.provision_state
        if state not in STEPS:
            return None
        step = STEPS[state]
        progress = (node.driver_internal_info or {}).get(STEP_NOTE) or {}
        if progress.get("name") == step and progress.get("status") != "issued":
            return None
        result = payload.get("command_result")
        if isinstance(result, dict) and result.get("name") == step and \
                progress.get("name") == step:
            handed_over = _finished(conductor, node, state, step, result)
            return None
        nodes.note(node_id, **{STEP_NOTE: {"name": step, "status": "issued",
                                           "issued_at": db.utcnow().isoformat()}})
        LOG.info("node %s: the ramdisk is asked to %s", node_id, step)
        return deploy.write_image_command(node) if step == "write_image" \
            else {"name": step, "params": {}}
    finally:
        if not handed_over:
            locks.release(node_id, conductor.host)


def _finished(conductor, node, state: str, step: str, result: dict) -> bool:
    """Act on a step's result; True when a flow took over the node's reservation."""
    succeeded = result.get("status") == "SUCCEEDED"
    nodes.note(node.id, **{STEP_NOTE: {"name": step, "status": "succeeded" if succeeded
                                       else "failed"}})
    if succeeded:
        LOG.info("node %s: the ramdisk finished %s", node.id, step)
        if nodes.move(node.id, state, "resume") is None:
            return False
        conductor.submit_reserved(node.id, FINISH[state], conductor, node.id)
        return True
    error = str(result.get("error") or "no reason given")
    message = FAILURES[step].format(node=node.id, error=error)
    conductor.submit_reserved(node.id, boot.give_up, conductor, node.id, state, message)
    return True
