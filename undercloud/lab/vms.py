"""The lab's machines as libvirt qemu/TCG domains: an empty qcow2 disk, network boot first,
one virtio NIC on the provisioning bridge and the serial console logged to a file."""
import dataclasses
import logging
import os
import subprocess
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

import libvirt

LOG = logging.getLogger(__name__)
# libvirt prints every error to stderr too; ours are raised as VmError instead.
libvirt.registerErrorHandler(lambda context, error: None, None)
MACHINE_TYPE = "pc"
ARCH = "x86_64"


class VmError(Exception):
    """A lab VM cannot be made, changed or removed; the message names it."""


@dataclasses.dataclass
class LabVm:
    name: str
    mac: str
    bridge: str
    disk_path: str
    console_log: str
    memory_mb: int = 1024
    cpus: int = 1
    disk_gb: int = 4


def domain_xml(vm: LabVm) -> str:
    """The domain's definition; values are quoted for XML."""
    return f"""<domain type='qemu'>
  <name>{vm.name}</name>
  <memory unit='MiB'>{int(vm.memory_mb)}</memory>
  <vcpu>{int(vm.cpus)}</vcpu>
  <os>
    <type arch='{ARCH}' machine='{MACHINE_TYPE}'>hvm</type>
    <boot dev='network'/>
    <boot dev='hd'/>
    <bios useserial='yes'/>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file={quoteattr(vm.disk_path)}/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address={quoteattr(vm.mac)}/>
      <source bridge={quoteattr(vm.bridge)}/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <log file={quoteattr(vm.console_log)} append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>"""


def _error(vm_name: str, action: str, exc: libvirt.libvirtError) -> VmError:
    return VmError(f"cannot {action} lab VM {vm_name}: {exc.get_error_message()}")


def exists(connection: libvirt.virConnect, name: str) -> bool:
    try:
        connection.lookupByName(name)
        return True
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise _error(name, "look up", exc) from None


def create(connection: libvirt.virConnect, vm: LabVm) -> None:
    """Make the empty disk and define the domain (powered off, as a racked server)."""
    os.makedirs(os.path.dirname(vm.disk_path), mode=0o755, exist_ok=True)
    result = subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", vm.disk_path,
                             f"{int(vm.disk_gb)}G"], capture_output=True, text=True)
    if result.returncode != 0:
        raise VmError(f"cannot make the disk of lab VM {vm.name}: {result.stderr.strip()}")
    try:
        connection.defineXML(domain_xml(vm))
    except libvirt.libvirtError as exc:
        raise _error(vm.name, "define", exc) from None
    LOG.info("lab VM %s defined (MAC %s on %s)", vm.name, vm.mac, vm.bridge)


def remove(connection: libvirt.virConnect, name: str, disk_path: str | None) -> None:
    """Stop and forget the domain and delete its disk; already gone is fine."""
    try:
        domain = connection.lookupByName(name)
        if domain.isActive():
            domain.destroy()
        domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                             | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        LOG.info("lab VM %s removed", name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise _error(name, "remove", exc) from None
    if disk_path and os.path.exists(disk_path):
        os.unlink(disk_path)


def set_link(connection: libvirt.virConnect, name: str, up: bool) -> None:
    """Plug or unplug the VM's cable (its NIC's link state), now and for later boots."""
    try:
        domain = connection.lookupByName(name)
        for flags in (libvirt.VIR_DOMAIN_XML_INACTIVE, 0):
            if flags == 0 and not domain.isActive():
                break
            interface = ElementTree.fromstring(domain.XMLDesc(flags)).find(
                "devices/interface")
            link = interface.find("link")
            if link is None:
                link = ElementTree.SubElement(interface, "link")
            link.set("state", "up" if up else "down")
            domain.updateDeviceFlags(
                ElementTree.tostring(interface, "unicode"),
                libvirt.VIR_DOMAIN_AFFECT_CONFIG if flags else libvirt.VIR_DOMAIN_AFFECT_LIVE)
    except libvirt.libvirtError as exc:
        raise _error(name, "change the NIC link of", exc) from None
    LOG.info("lab VM %s: NIC link %s", name, "up" if up else "down")


def power_state(connection: libvirt.virConnect, name: str) -> str:
    """"on", "off" or "missing"."""
    try:
        return "on" if connection.lookupByName(name).isActive() else "off"
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return "missing"
        raise _error(name, "read the state of", exc) from None
