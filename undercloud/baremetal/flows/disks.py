"""The root disk an inventory offers, and the scheduling properties it gives a node.

The root disk is the one properties.root_device names (Ironic's root device hints: name,
serial, model, vendor, wwn, size in GiB, rotational; every given hint must match), else the
largest disk. local_gb is that disk's size in whole GiB minus 1, as Ironic's inspection
does (it keeps 1 GiB for partitioning).
"""
GIB = 1024 ** 3
HINTS = ("name", "serial", "model", "vendor", "wwn", "size", "rotational")


class NoRootDisk(Exception):
    """No disk of the inventory matches the node's root device hints."""


def _matches(disk: dict, hints: dict) -> bool:
    for key, wanted in hints.items():
        value = disk.get(key)
        if key == "size":
            if not isinstance(value, int) or value // GIB != int(wanted):
                return False
        elif key == "rotational":
            if bool(value) != (str(wanted).lower() in ("1", "true", "yes", "on")):
                return False
        elif key == "name":
            name = str(wanted)
            if value != name and value != f"/dev/{name}":
                return False
        elif str(value).lower() != str(wanted).lower():
            return False
    return True


def root_disk(inventory: dict, hints: dict | None = None) -> dict | None:
    """The root disk, or None when the inventory lists no disk; NoRootDisk when hints are
    given and match none."""
    disks = [disk for disk in inventory.get("disks") or [] if isinstance(disk, dict)]
    hints = {key: value for key, value in (hints or {}).items() if key in HINTS}
    if hints:
        matching = [disk for disk in disks if _matches(disk, hints)]
        if not matching:
            raise NoRootDisk(f"No disk matches the root device hints {hints}; the disks are "
                             f"{', '.join(str(d.get('name')) for d in disks) or 'none'}")
        return matching[0]
    return max(disks, key=lambda disk: disk.get("size") or 0, default=None)


def properties(inventory: dict, hints: dict | None = None) -> dict:
    """cpus, memory_mb, cpu_arch and local_gb, for what the inventory tells."""
    found = {}
    cpu = inventory.get("cpu") or {}
    if cpu.get("count"):
        found["cpus"] = int(cpu["count"])
    if cpu.get("architecture"):
        found["cpu_arch"] = str(cpu["architecture"])
    memory = inventory.get("memory") or {}
    if memory.get("physical_mb"):
        found["memory_mb"] = int(memory["physical_mb"])
    disk = root_disk(inventory, hints)
    if disk is not None and disk.get("size"):
        found["local_gb"] = max(int(disk["size"]) // GIB - 1, 0)
    return found
