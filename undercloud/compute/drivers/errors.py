"""What a compute driver raises. Every message names the instance and what went wrong."""
from undercloud.host.errors import DiskError, DriverError, ImageError  # noqa: F401 (ours too)


class HypervisorUnavailable(DriverError):
    """libvirt cannot be reached."""


class InstanceNotFound(DriverError):
    """The hypervisor has no domain for this instance."""


class NicNotFound(DriverError):
    """The instance has no NIC with this MAC address (detached already)."""


class InstanceExists(DriverError):
    """A running domain already has this instance's uuid or name."""


class InstanceInvalidState(DriverError):
    """The operation does not apply in the instance's current power state."""
