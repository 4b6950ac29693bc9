"""The conductor's work on nodes, one flow per file: verify (manage), inspect, clean, deploy
(and undeploy), abort, power, the ramdisk's heartbeats, validation, and recovery (timeouts,
crashes, lost requests). Each flow moves the node through Ironic's state machine
(states.apply_event) and ends in a stable or failed state with last_error.

A flow gets the conductor (``config``, ``host``, ``provisioning``, ``bmc_for(node)``,
``submit_reserved(...)``) and a node id; it runs holding the node's reservation.
"""
