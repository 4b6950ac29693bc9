"""What the host's tools raise. Every message names the object and what went wrong."""


class DriverError(Exception):
    """A hypervisor, disk or image tool refused; the message says which object and why."""


class ImageError(DriverError):
    """An image could not be cached, checked or used as a base."""


class DiskError(DriverError):
    """qemu-img could not create, resize or export a disk."""
