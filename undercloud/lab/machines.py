"""What a lab BMC drives: one machine's power and boot device.

A machine answers in plain words (power "on"/"off", boot device "network"/"hd") and raises
MachineError when it cannot be reached; the BMC turns that into IPMI completion codes. The
lab's machines are libvirt domains (bare-metal nodes) or systemd-nspawn containers (deployed
servers); each kind has the same methods and an entry in ``KINDS``.
"""
import logging
from xml.etree import ElementTree

import libvirt

from undercloud.lab import nspawn

LOG = logging.getLogger(__name__)
# libvirt prints every error to stderr too; ours are raised as MachineError instead.
libvirt.registerErrorHandler(lambda context, error: None, None)
BOOT_DEVICES = ("network", "hd")


class MachineError(Exception):
    """The machine cannot be reached or refused the action; the message says which."""


class Machine:
    """The interface a BMC needs; subclasses implement every method."""
    name = ""

    def power_state(self) -> str:
        """"on" or "off"."""
        raise NotImplementedError

    def power_on(self) -> None:
        raise NotImplementedError

    def power_off(self) -> None:
        """Pull the plug: off at once, whatever the OS is doing."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Press the power button: the OS may shut down gracefully (ACPI)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Boot a running machine again from its firmware, reading the boot device anew."""
        raise NotImplementedError

    def boot_device(self) -> str:
        """The device the machine boots from first: one of BOOT_DEVICES."""
        raise NotImplementedError

    def set_boot_device(self, device: str) -> None:
        """Boot from ``device`` first (one of BOOT_DEVICES) from the next boot on."""
        raise NotImplementedError


def _boot_order(device: str) -> list[str]:
    """The other device stays second, so an empty disk still falls back to PXE."""
    return [device] + [other for other in BOOT_DEVICES if other != device]


class LibvirtDomain(Machine):
    """A libvirt domain; the boot device is its persistent <os><boot> order."""

    def __init__(self, uri: str, domain: str):
        self.uri = uri
        self.name = domain
        self._connection = None

    def _domain(self) -> libvirt.virDomain:
        try:
            if self._connection is None or not self._connection.isAlive():
                self._connection = libvirt.open(self.uri)
            return self._connection.lookupByName(self.name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                self._connection = None   # reconnect next time: libvirtd may have restarted
            raise MachineError(f"domain {self.name} on {self.uri}: "
                               f"{exc.get_error_message()}") from None

    def _do(self, action: str, function, *args):
        try:
            return function(*args)
        except libvirt.libvirtError as exc:
            raise MachineError(f"cannot {action} domain {self.name}: "
                               f"{exc.get_error_message()}") from None

    def power_state(self) -> str:
        domain = self._domain()
        return "on" if self._do("read the state of", domain.isActive) else "off"

    def power_on(self) -> None:
        domain = self._domain()
        if not self._do("read the state of", domain.isActive):
            self._do("start", domain.create)

    def power_off(self) -> None:
        domain = self._domain()
        if self._do("read the state of", domain.isActive):
            self._do("stop", domain.destroy)

    def shutdown(self) -> None:
        domain = self._domain()
        if self._do("read the state of", domain.isActive):
            self._do("shut down", domain.shutdown)

    def reset(self) -> None:
        # A virtual reset keeps the running definition; a real reset re-reads the boot
        # device, so boot the persistent definition afresh.
        domain = self._domain()
        self._do("stop", domain.destroy)
        self._do("start", domain.create)

    def _definition(self, domain) -> ElementTree.Element:
        return ElementTree.fromstring(self._do("read the definition of", domain.XMLDesc,
                                               libvirt.VIR_DOMAIN_XML_INACTIVE))

    def boot_device(self) -> str:
        first = self._definition(self._domain()).find("os/boot")
        return first.get("dev") if first is not None else "hd"

    def set_boot_device(self, device: str) -> None:
        if device not in BOOT_DEVICES:
            raise ValueError(f"boot device {device!r} must be one of {', '.join(BOOT_DEVICES)}")
        domain = self._domain()
        definition = self._definition(domain)
        os_element = definition.find("os")
        old = os_element.findall("boot")
        # The new order takes the old one's place, so <bios> and friends stay after it.
        position = list(os_element).index(old[0]) if old else len(os_element)
        for boot in old:
            os_element.remove(boot)
        for offset, dev in enumerate(_boot_order(device)):
            os_element.insert(position + offset, ElementTree.Element("boot", dev=dev))
        connection = self._connection
        self._do("redefine", connection.defineXML, ElementTree.tostring(definition, "unicode"))


class NspawnMachine(Machine):
    """A lab host in a systemd-nspawn container: on is a running container. A container
    boots its own root file system only, so the boot device is kept but changes nothing."""

    def __init__(self, name: str, rootfs: str, bridge: str, log_file: str):
        self.name = name
        self.rootfs = rootfs
        self.bridge = bridge
        self.log_file = log_file
        self._boot_device = "hd"

    def _do(self, action: str, function, *args):
        try:
            return function(*args)
        except (nspawn.NspawnError, OSError) as exc:
            raise MachineError(f"cannot {action} container {self.name}: {exc}") from None

    def power_state(self) -> str:
        return "on" if self._do("find", nspawn.find, self.rootfs) else "off"

    def power_on(self) -> None:
        self._do("start", nspawn.start, self.name, self.rootfs, self.bridge, self.log_file)

    def power_off(self) -> None:
        self._do("stop", nspawn.kill, self.rootfs)

    def shutdown(self) -> None:
        self._do("shut down", nspawn.shutdown, self.rootfs)

    def reset(self) -> None:
        self.power_off()
        self.power_on()

    def boot_device(self) -> str:
        return self._boot_device

    def set_boot_device(self, device: str) -> None:
        if device not in BOOT_DEVICES:
            raise ValueError(f"boot device {device!r} must be one of {', '.join(BOOT_DEVICES)}")
        self._boot_device = device


KINDS = {"libvirt": lambda spec: LibvirtDomain(spec["uri"], spec["domain"]),
         "nspawn": lambda spec: NspawnMachine(spec["name"], spec["rootfs"], spec["bridge"],
                                              spec["log_file"])}


def from_spec(spec: dict) -> Machine:
    """A machine from its BMC config's "machine" entry: {"type": "libvirt", ...}."""
    kind = spec.get("type")
    if kind not in KINDS:
        raise ValueError(f"machine type {kind!r} must be one of {', '.join(KINDS)}")
    return KINDS[kind](spec)
