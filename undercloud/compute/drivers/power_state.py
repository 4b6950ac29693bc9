"""Nova's power_state numbers: what the hypervisor says an instance is doing right now."""
NOSTATE = 0x00
RUNNING = 0x01
PAUSED = 0x03
SHUTDOWN = 0x04  # the domain is off (libvirt's "shutoff")
CRASHED = 0x06
SUSPENDED = 0x07

NAMES = {NOSTATE: "pending", RUNNING: "running", PAUSED: "paused", SHUTDOWN: "shutdown",
         CRASHED: "crashed", SUSPENDED: "suspended"}
