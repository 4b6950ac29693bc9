"""abort in a wait state: the API already moved the node to the failed state; here it is
powered off and its network boot (and deploy image) cleaned up, with last_error saying so."""
from undercloud.baremetal import states
from undercloud.baremetal.flows import boot, nodes

OPERATIONS = {states.INSPECT_FAILED: "Inspection", states.CLEAN_FAILED: "Cleaning",
              states.DEPLOY_FAILED: "Deployment"}


def abort(conductor, node_id: str, context: dict | None = None,
          params: dict | None = None) -> None:
    state = nodes.get(node_id).provision_state
    if state not in OPERATIONS:
        return
    problem = boot.stop_ramdisk(conductor, node_id, image=state == states.DEPLOY_FAILED)
    message = f"{OPERATIONS[state]} of node {node_id} aborted by request"
    nodes.set_fields(node_id, last_error=f"{message} (and powering it off failed: {problem})"
                     if problem else message)
