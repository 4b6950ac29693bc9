"""The iPXE scripts nodes chain to from DHCP: the deploy/discovery ramdisk in one of its modes,
or the node's local disk.

The ramdisk reads exactly these kernel arguments: ipa-api-url (where it calls back),
ipa-mode (inspect, deploy or clean), ipa-node (the node's uuid; absent for an unknown MAC)
and BOOTIF (the MAC it booted from).
"""
import re

RAMDISK_MODES = ("inspect", "deploy", "clean")
MODES = RAMDISK_MODES + ("disk",)
DEFAULT_SCRIPT = "default.ipxe"
# The last console is /dev/console: the serial one, so the lab and bench can read the ramdisk.
CONSOLE_ARGS = "console=tty0 console=ttyS0,115200n8"
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def script_name(mac: str) -> str:
    """The per-MAC script's file name: 52-54-00-12-34-56.ipxe."""
    return mac.replace(":", "-") + ".ipxe"


def ramdisk_script(base_url: str, mode: str, node_id: str | None, mac: str) -> str:
    """Boot the ramdisk from `base_url`, the HTTP server that also proxies the agent
    endpoints; `mac` is literal, or the iPXE setting ${mac} for unknown nodes."""
    arguments = [f"ipa-api-url={base_url}", f"ipa-mode={mode}"]
    if node_id:
        arguments.append(f"ipa-node={node_id}")
    # initrd= names the initrd for EFI-stub kernels; BIOS kernels ignore it.
    arguments += [f"BOOTIF={mac}", CONSOLE_ARGS, "initrd=initrd.img"]
    about = f"node {node_id}" if node_id else "an unknown node"
    return (
        "#!ipxe\n"
        f"# stackbox: {about} boots the ramdisk to {mode}\n"
        ":retry\n"
        "imgfree\n"
        f"kernel {base_url}/ramdisk/vmlinuz {' '.join(arguments)} || goto failed\n"
        f"initrd {base_url}/ramdisk/initrd.img || goto failed\n"
        "boot || goto failed\n"
        ":failed\n"
        # A slow or restarting conductor is not a reason to fall through to the disk.
        "echo stackbox: could not fetch the ramdisk; retrying in 5 seconds\n"
        "sleep 5 ||\n"
        "goto retry\n")


def disk_script(node_id: str) -> str:
    """Leave iPXE for the first local disk: sanboot on BIOS, back to the firmware on UEFI."""
    return (
        "#!ipxe\n"
        f"# stackbox: node {node_id} boots from its local disk\n"
        "iseq ${platform} efi && goto firmware ||\n"
        "sanboot --no-describe --drive 0x80 ||\n"
        ":firmware\n"
        "exit\n")


def script(base_url: str, mode: str, node_id: str, mac: str) -> str:
    if mode == "disk":
        return disk_script(node_id)
    return ramdisk_script(base_url, mode, node_id, mac)


def default_script(base_url: str) -> str:
    """For MACs no node has claimed: discovery, the ramdisk inspects and reports them."""
    return ramdisk_script(base_url, "inspect", None, "${mac}")
