"""The instance description a driver builds a guest from, decided by the compute manager."""
import dataclasses


@dataclasses.dataclass
class Nic:
    """One virtual NIC: plugged into `bridge` (a Linux bridge) when given, else a bare tap."""
    mac: str
    bridge: str | None = None
    tap: str | None = None
    mtu: int | None = None
    model: str = "virtio"


@dataclasses.dataclass
class Instance:
    """A guest: `name` is the hypervisor's name for it (unique per host, e.g. instance-<uuid>).

    disk_path is the instance's qcow2 overlay; config_drive_path an ISO (config-2) or None;
    console_log_path where the serial console is logged (its folder must exist). kernel_path,
    ramdisk_path and kernel_args boot a kernel directly instead of from the disk.
    """
    uuid: str
    name: str
    vcpus: int
    memory_mb: int
    disk_path: str
    config_drive_path: str | None = None
    console_log_path: str | None = None
    nics: list[Nic] = dataclasses.field(default_factory=list)
    display_name: str | None = None
    kernel_path: str | None = None
    ramdisk_path: str | None = None
    kernel_args: str | None = None
