"""manage: verifying -> the BMC answers with the node's credentials -> manageable, with
its power state; otherwise back to enroll with the reason (Ironic's message)."""
from undercloud.baremetal import states
from undercloud.baremetal.drivers.ipmi import IpmiError
from undercloud.baremetal.flows import nodes


def manage(conductor, node_id: str, context: dict | None = None,
           params: dict | None = None) -> None:
    node = nodes.get(node_id)
    try:
        power_state = conductor.bmc_for(node).power_state()
    except IpmiError as exc:
        nodes.fail(node_id, states.VERIFYING, f"Failed to validate power driver interface "
                                              f"for node {node_id}: {exc}")
        return
    nodes.move(node_id, states.VERIFYING, "done", power_state=power_state, last_error=None)
