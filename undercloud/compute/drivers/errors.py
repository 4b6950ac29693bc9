"""What a compute driver raises. Every message names the instance and what went wrong."""


class DriverError(Exception):
    """The hypervisor or a disk tool refused; the message says which instance and why."""


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


class ImageError(DriverError):
    """An image could not be cached, checked or used as a base."""


class DiskError(DriverError):
    """qemu-img could not create, resize or export an instance disk."""
