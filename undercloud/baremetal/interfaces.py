"""The one hardware type this cloud drives, Ironic's "ipmi", and the interfaces it implements.

Each interface has exactly one implementation here. Those a node stores (boot, deploy, ...)
are columns; the rest are fixed, and asking for anything else is a 400 naming what exists.
"""
from undercloud.common.errors import BadRequest

DRIVER = "ipmi"
# kind -> the implementation, for interfaces each node row records.
STORED = {"boot": "ipxe", "deploy": "direct", "inspect": "agent", "management": "ipmitool",
          "network": "flat", "power": "ipmitool"}
# kind -> the implementation, for interfaces this cloud does not offer (Ironic's no-op ones).
FIXED = {"bios": "no-bios", "console": "no-console", "firmware": "no-firmware",
         "raid": "no-raid", "rescue": "no-rescue", "storage": "noop", "vendor": "no-vendor"}
FIELDS = tuple(f"{kind}_interface" for kind in (*STORED, *FIXED))

# What ipmitool can ask a BMC to boot from next (Ironic's ipmitool management interface).
BOOT_DEVICES = ("pxe", "disk", "cdrom", "bios", "safe")

# GET /v1/drivers/ipmi/properties: the driver_info keys this cloud reads.
PROPERTIES = {
    "ipmi_address": "IP address or hostname of the node's BMC. Required.",
    "ipmi_port": "Remote IPMI RMCP port. Optional, default 623.",
    "ipmi_username": "The BMC user name. Optional.",
    "ipmi_password": "The BMC password; stored encrypted and shown as \"******\". Optional.",
    "deploy_kernel": "URL or Glance image of the deploy/discovery kernel. Optional, the "
                     "cloud's ramdisk by default.",
    "deploy_ramdisk": "URL or Glance image of the deploy/discovery initramfs. Optional, the "
                      "cloud's ramdisk by default.",
}


def check_driver(name):
    if name != DRIVER:
        raise BadRequest(f"No valid host was found. Reason: No conductor service registered "
                         f"which supports driver {name} for conductor group \"\". Enabled "
                         f"drivers: {DRIVER}.")


def check(field: str, value):
    """400 unless `value` is None or the implementation of interface `field` (boot_interface)."""
    if value is None:
        return
    kind = field.removesuffix("_interface")
    expected = STORED.get(kind) or FIXED[kind]
    if value != expected:
        raise BadRequest(f"Could not find the following interface in the "
                         f"'ironic.hardware.interfaces.{kind}' entrypoint: {value}. Valid "
                         f"interfaces are {expected}.")


def driver_interfaces() -> dict[str, tuple[str, list[str]]]:
    """kind -> (default, enabled implementations), as GET /v1/drivers/ipmi shows them."""
    return {kind: (name, [name]) for kind, name in sorted({**STORED, **FIXED}.items())}
