"""Compute's back ends: the libvirt driver, instance disks, and the libvirt daemons."""
