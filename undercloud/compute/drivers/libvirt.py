"""The libvirt driver: instances as qemu guests (KVM when it really runs guests, else TCG).

A thin translation layer: the compute manager decides, this maps each decision onto libvirt.
`qemu:///system` is the real hypervisor; `test:///default` (libvirt's in-memory test driver)
serves fast tests. Every libvirt failure becomes a DriverError naming the instance.
"""
import dataclasses
import logging
import os
import stat
import threading
import time
import xml.etree.ElementTree as ElementTree

import jinja2
import libvirt

from undercloud.compute.drivers import power_state
from undercloud.compute.drivers.errors import (
    DriverError,
    HypervisorUnavailable,
    InstanceExists,
    InstanceInvalidState,
    InstanceNotFound,
    NicNotFound,
)
from undercloud.compute.drivers.instance import Instance, Nic
from undercloud.host import libvirtd

LOG = logging.getLogger(__name__)
# Nova's console-log limit: the tail a user gets back.
MAX_CONSOLE_BYTES = 100 * 1024
MACHINE_TYPE = "pc"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("undercloud.compute.drivers", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined)

# libvirt's domain states → Nova's power states ("shutdown" in libvirt means "going down").
_POWER_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: power_state.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: power_state.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: power_state.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: power_state.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: power_state.RUNNING,
    libvirt.VIR_DOMAIN_SHUTOFF: power_state.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: power_state.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: power_state.SUSPENDED,
}


def _quiet(context, error):
    """libvirt prints every error to stderr by default; ours are raised instead."""


libvirt.registerErrorHandler(_quiet, None)


@dataclasses.dataclass
class DomainInfo:
    """What the hypervisor says about one domain."""
    uuid: str
    name: str
    power_state: int
    vcpus: int
    memory_mb: int
    cpu_time_ns: int


def _interface(element, mac: str, direct: bool = False):
    """The <interface> with this MAC under a domain (or, direct, its <devices>)."""
    for interface in element.iterfind("interface" if direct else "devices/interface"):
        address = interface.find("mac")
        if address is not None and address.get("address", "").lower() == mac.lower():
            return interface
    return None


def _local_cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return {flag for line in cpuinfo if line.startswith("flags")
                    for flag in line.split(":", 1)[1].split()}
    except OSError:
        return set()


class LibvirtDriver:
    """One hypervisor connection. virt_type: "auto" (KVM if it runs guests), "kvm" or "qemu"."""

    def __init__(self, uri: str = "qemu:///system", virt_type: str = "auto",
                 instances_dir: str | None = None):
        if virt_type not in ("auto", "kvm", "qemu"):
            raise ValueError(f"virt_type {virt_type!r} must be auto, kvm or qemu")
        self.uri = uri
        self.instances_dir = instances_dir
        self._virt_type = None if virt_type == "auto" else virt_type
        self._arch = None
        self._connection = None
        self._lock = threading.Lock()

    # ---- connection -----------------------------------------------------------------------

    @property
    def connection(self) -> libvirt.virConnect:
        with self._lock:
            if self._connection is not None:
                try:
                    if self._connection.isAlive():
                        return self._connection
                except libvirt.libvirtError:
                    pass
                LOG.warning("libvirt connection to %s was lost; reconnecting", self.uri)
            if self.uri == "qemu:///system":
                try:
                    libvirtd.ensure_running()
                except libvirtd.DaemonError as exc:
                    raise HypervisorUnavailable(str(exc)) from None
            try:
                self._connection = libvirt.open(self.uri)
            except libvirt.libvirtError as exc:
                raise HypervisorUnavailable(
                    f"cannot connect to libvirt at {self.uri}: {exc.get_error_message()}"
                ) from None
            return self._connection

    def close(self):
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.close()
                except libvirt.libvirtError:
                    pass
                self._connection = None

    @property
    def virt_type(self) -> str:
        """kvm when the host really runs KVM guests, else qemu (TCG), decided once."""
        if self._virt_type is None:
            self._virt_type, reason = self._detect_virt_type()
            LOG.info("libvirt at %s: domain type %s (%s)", self.uri, self._virt_type, reason)
        return self._virt_type

    def _detect_virt_type(self):
        capabilities = ElementTree.fromstring(self.connection.getCapabilities())
        features = {feature.get("name") for feature in capabilities.iterfind("host/cpu/feature")}
        if self.uri.startswith("qemu:///"):
            features |= _local_cpu_flags()
        # /dev/kvm can be a software driver (e.g. a nested "PVM" one) that boots no ordinary
        # guest; real KVM needs the CPU's hardware virtualization (vmx or svm).
        if not features & {"vmx", "svm"}:
            return "qemu", "the host CPU offers no vmx/svm, so KVM cannot run ordinary guests"
        try:
            self.connection.getDomainCapabilities(None, self.arch, None, "kvm")
        except libvirt.libvirtError as exc:
            return "qemu", f"libvirt offers no kvm domains: {exc.get_error_message()}"
        return "kvm", "hardware virtualization and /dev/kvm are usable"

    @property
    def arch(self) -> str:
        """The host's CPU architecture, which guests share."""
        if self._arch is None:
            capabilities = ElementTree.fromstring(self.connection.getCapabilities())
            arch = capabilities.findtext("host/cpu/arch") or "x86_64"
            # libvirt's test driver claims i686; instances are x86_64 everywhere we run.
            self._arch = "x86_64" if arch == "i686" else arch
        return self._arch

    # ---- lookups and errors ---------------------------------------------------------------

    def _domain(self, uuid: str) -> libvirt.virDomain:
        try:
            return self.connection.lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise InstanceNotFound(f"instance {uuid} has no libvirt domain on "
                                       f"{self.uri}") from None
            raise self._error(uuid, "look up", exc) from None

    def _error(self, uuid, action, exc):
        message = f"cannot {action} instance {uuid}: {exc.get_error_message()}"
        code = exc.get_error_code()
        if code == libvirt.VIR_ERR_NO_DOMAIN:
            return InstanceNotFound(message)
        if code == libvirt.VIR_ERR_OPERATION_INVALID:
            return InstanceInvalidState(message)
        if code in (libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_SYSTEM_ERROR) and \
                self._connection is not None and not self._connection.isAlive():
            return HypervisorUnavailable(message)
        return DriverError(message)

    def _call(self, uuid, action, function, *args):
        try:
            return function(*args)
        except libvirt.libvirtError as exc:
            raise self._error(uuid, action, exc) from None

    # ---- building guests ------------------------------------------------------------------

    def domain_xml(self, instance: Instance) -> str:
        return _TEMPLATES.get_template("domain.xml.j2").render(
            instance=instance, virt_type=self.virt_type, arch=self.arch, machine=MACHINE_TYPE)

    def define(self, instance: Instance) -> None:
        """Create or replace the domain's definition without starting it."""
        xml = self.domain_xml(instance)
        try:
            self.connection.defineXML(xml)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() in (libvirt.VIR_ERR_DOM_EXIST,
                                        libvirt.VIR_ERR_OPERATION_FAILED) and \
                    "already" in exc.get_error_message():
                raise InstanceExists(f"cannot define instance {instance.uuid} as "
                                     f"{instance.name}: {exc.get_error_message()}") from None
            raise self._error(instance.uuid, "define", exc) from None

    def _check_reachable(self, instance: Instance):
        """qemu runs as libvirt-qemu: every folder above its files must let others through."""
        if self.uri != "qemu:///system":
            return
        for path in (instance.disk_path, instance.config_drive_path, instance.kernel_path,
                     instance.ramdisk_path):
            folder = os.path.dirname(os.path.abspath(path)) if path else None
            while folder and folder != "/":
                try:
                    mode = os.stat(folder).st_mode
                except OSError:
                    mode = stat.S_IXOTH  # not there (yet): libvirt will say so itself
                if not mode & stat.S_IXOTH:
                    raise DriverError(
                        f"cannot start instance {instance.uuid}: qemu (user libvirt-qemu) "
                        f"cannot reach {path} because {folder} is mode "
                        f"{stat.S_IMODE(mode):o}; let others traverse it (chmod o+x)")
                folder = os.path.dirname(folder)

    def spawn(self, instance: Instance) -> None:
        """Define and start a guest. A running one with this uuid is an InstanceExists."""
        self._check_reachable(instance)
        try:
            existing = self._domain(instance.uuid)
        except InstanceNotFound:
            existing = None
        if existing is not None and existing.isActive():
            raise InstanceExists(f"instance {instance.uuid} is already running as "
                                 f"{existing.name()}")
        self.define(instance)
        domain = self._domain(instance.uuid)
        try:
            domain.create()
        except libvirt.libvirtError as exc:
            error = self._error(instance.uuid, "start", exc)
            if existing is None:
                # Leave nothing behind for a guest that never ran.
                self.undefine(instance.uuid)
            raise error from None
        LOG.info("instance %s started as %s (%s)", instance.uuid, instance.name,
                 self.virt_type)

    # ---- power ----------------------------------------------------------------------------

    def start(self, uuid: str) -> None:
        """Power on a defined guest (restoring it if it was suspended)."""
        domain = self._domain(uuid)
        if not domain.isActive():
            self._call(uuid, "start", domain.create)

    def destroy(self, uuid: str) -> None:
        """Hard power off. The definition and disks stay; a stopped guest is left alone."""
        domain = self._domain(uuid)
        if domain.isActive():
            try:
                domain.destroy()
            except libvirt.libvirtError as exc:
                if domain.isActive():
                    raise self._error(uuid, "destroy", exc) from None

    def shutdown(self, uuid: str, timeout: float = 60, retry_interval: float = 10) -> bool:
        """Ask the guest to power off (ACPI), destroying it after `timeout` seconds.

        Returns True when the guest went down by itself. The request is repeated every
        `retry_interval` seconds, since a guest that is still booting may miss one.
        """
        domain = self._domain(uuid)
        deadline = time.monotonic() + timeout
        next_request = 0.0
        while time.monotonic() < deadline:
            if not domain.isActive():
                LOG.info("instance %s shut down gracefully", uuid)
                return True
            if time.monotonic() >= next_request:
                try:
                    domain.shutdown()
                except libvirt.libvirtError as exc:
                    if domain.isActive():
                        raise self._error(uuid, "shut down", exc) from None
                next_request = time.monotonic() + retry_interval
            time.sleep(0.2)
        if not domain.isActive():
            return True
        LOG.warning("instance %s did not shut down within %.0f s; destroying it", uuid, timeout)
        self.destroy(uuid)
        return False

    def reboot(self, uuid: str, hard: bool = False, timeout: float = 60) -> str:
        """Reboot; soft is a graceful shutdown then start, falling back to hard like Nova.

        Returns "soft" or "hard": the kind of reboot that happened.
        """
        domain = self._domain(uuid)
        if not hard and domain.isActive() and self.power_state(uuid) == power_state.RUNNING:
            if self.shutdown(uuid, timeout=timeout):
                self.start(uuid)
                return "soft"
        self.destroy(uuid)
        if domain.hasManagedSaveImage(0):
            # A hard reboot boots afresh; it never resumes a saved memory image.
            self._call(uuid, "discard the saved state of", domain.managedSaveRemove, 0)
        self._call(uuid, "start", domain.create)
        return "hard"

    def pause(self, uuid: str) -> None:
        """Freeze the guest's vCPUs in memory."""
        domain = self._domain(uuid)
        self._require(uuid, power_state.RUNNING, "pause")
        self._call(uuid, "pause", domain.suspend)

    def unpause(self, uuid: str) -> None:
        domain = self._domain(uuid)
        self._require(uuid, power_state.PAUSED, "unpause")
        self._call(uuid, "unpause", domain.resume)

    def suspend(self, uuid: str) -> None:
        """Save the guest's memory to disk and stop it (libvirt's managed save)."""
        domain = self._domain(uuid)
        self._require(uuid, (power_state.RUNNING, power_state.PAUSED), "suspend")
        self._call(uuid, "suspend", domain.managedSave, 0)

    def resume(self, uuid: str) -> None:
        """Restore a suspended guest from its saved memory."""
        domain = self._domain(uuid)
        self._require(uuid, power_state.SUSPENDED, "resume")
        self._call(uuid, "resume", domain.create)

    def _require(self, uuid, states, action):
        states = states if isinstance(states, tuple) else (states,)
        current = self.power_state(uuid)
        if current not in states:
            wanted = " or ".join(power_state.NAMES[state] for state in states)
            raise InstanceInvalidState(
                f"cannot {action} instance {uuid}: it is {power_state.NAMES[current]}, "
                f"it must be {wanted}")

    # ---- state ----------------------------------------------------------------------------

    def power_state(self, uuid: str) -> int:
        """Nova's power state; NOSTATE when there is no domain. A stopped guest with a
        saved memory image is SUSPENDED."""
        try:
            domain = self._domain(uuid)
        except InstanceNotFound:
            return power_state.NOSTATE
        state = self._call(uuid, "read the state of", domain.state)[0]
        if state == libvirt.VIR_DOMAIN_SHUTOFF and domain.hasManagedSaveImage(0):
            return power_state.SUSPENDED
        return _POWER_STATES.get(state, power_state.NOSTATE)

    def instance_info(self, uuid: str) -> DomainInfo:
        domain = self._domain(uuid)
        _, max_memory_kib, _, vcpus, cpu_time = self._call(uuid, "read", domain.info)
        return DomainInfo(uuid=uuid, name=domain.name(), power_state=self.power_state(uuid),
                          vcpus=vcpus, memory_mb=max_memory_kib // 1024, cpu_time_ns=cpu_time)

    def list_instances(self) -> list[DomainInfo]:
        """Every domain libvirt knows, running or not."""
        try:
            domains = self.connection.listAllDomains(0)
        except libvirt.libvirtError as exc:
            raise DriverError(f"cannot list domains at {self.uri}: "
                              f"{exc.get_error_message()}") from None
        found = []
        for domain in domains:
            try:
                found.append(self.instance_info(domain.UUIDString()))
            except InstanceNotFound:
                continue  # undefined while we looked
        return found

    def undefine(self, uuid: str) -> None:
        """Stop the guest if needed and forget it, with its saved memory and NVRAM.
        An unknown instance is fine (deleting twice is not an error)."""
        try:
            domain = self._domain(uuid)
        except InstanceNotFound:
            return
        self.destroy(uuid)
        flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                 | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                 | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        try:
            domain.undefineFlags(flags)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return
            if exc.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG,
                                            libvirt.VIR_ERR_NO_SUPPORT):
                raise self._error(uuid, "undefine", exc) from None
            # Drivers without NVRAM support refuse the flag: remove the pieces one by one.
            if domain.hasManagedSaveImage(0):
                self._call(uuid, "remove the saved state of", domain.managedSaveRemove, 0)
            self._call(uuid, "undefine", domain.undefine)
        LOG.info("instance %s undefined", uuid)

    # ---- NICs -----------------------------------------------------------------------------

    def _affect(self, domain):
        return libvirt.VIR_DOMAIN_AFFECT_CONFIG | (
            libvirt.VIR_DOMAIN_AFFECT_LIVE if domain.isActive() else 0)

    def attach_interface(self, uuid: str, nic: Nic) -> None:
        """Plug a NIC in, live if the guest runs, and keep it in the definition."""
        domain = self._domain(uuid)
        xml = _TEMPLATES.get_template("interface.xml.j2").render(nic=nic)
        try:
            domain.attachDeviceFlags(xml, self._affect(domain))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                raise self._error(uuid, f"attach NIC {nic.mac} to", exc) from None
            LOG.warning("libvirt at %s cannot hot-plug; instance %s gets NIC %s at its next "
                        "start", self.uri, uuid, nic.mac)
            self._redefine(uuid, domain, lambda devices: devices.append(
                ElementTree.fromstring(xml)))

    def detach_interface(self, uuid: str, mac: str) -> None:
        domain = self._domain(uuid)
        for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
            definition = ElementTree.fromstring(self._call(uuid, "read", domain.XMLDesc, flags))
            interface = _interface(definition, mac)
            if interface is not None:
                break
        else:
            raise NicNotFound(f"instance {uuid} has no NIC with MAC {mac}")
        xml = ElementTree.tostring(interface, encoding="unicode")
        try:
            domain.detachDeviceFlags(xml, self._affect(domain))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                raise self._error(uuid, f"detach NIC {mac} from", exc) from None
            self._redefine(uuid, domain, lambda devices: devices.remove(
                _interface(devices, mac, direct=True)))

    def _redefine(self, uuid, domain, change) -> None:
        """Change the domain's persistent definition (for hypervisors that cannot hot-plug)."""
        definition = ElementTree.fromstring(self._call(
            uuid, "read", domain.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE))
        change(definition.find("devices"))
        self._call(uuid, "redefine", self.connection.defineXML,
                   ElementTree.tostring(definition, encoding="unicode"))

    # ---- host and console -----------------------------------------------------------------

    def host_resources(self) -> dict:
        """What this host offers: the numbers the scheduler and placement need."""
        connection = self.connection
        try:
            _, memory_mb, cpus, *_ = connection.getInfo()
            free_mb = connection.getFreeMemory() // (1024 * 1024)
            hypervisor_type = connection.getType()
            hypervisor_version = connection.getVersion()
            hostname = connection.getHostname()
        except libvirt.libvirtError as exc:
            raise DriverError(f"cannot read host resources from {self.uri}: "
                              f"{exc.get_error_message()}") from None
        vcpus_used = sum(info.vcpus for info in self.list_instances()
                         if info.power_state in (power_state.RUNNING, power_state.PAUSED))
        resources = {
            "vcpus": cpus, "vcpus_used": vcpus_used,
            "memory_mb": memory_mb, "memory_mb_used": max(memory_mb - free_mb, 0),
            "hypervisor_type": hypervisor_type, "hypervisor_version": hypervisor_version,
            "hypervisor_hostname": hostname, "cpu_arch": self.arch, "virt_type": self.virt_type,
            "disk_gb": 0, "disk_gb_used": 0, "disk_gb_free": 0,
        }
        if self.instances_dir:
            os.makedirs(self.instances_dir, exist_ok=True)
            disk = os.statvfs(self.instances_dir)
            gib = 1024 ** 3
            total, free = disk.f_blocks * disk.f_frsize, disk.f_bavail * disk.f_frsize
            resources.update(disk_gb=total // gib, disk_gb_free=free // gib,
                             disk_gb_used=(total - free) // gib)
        return resources

    def console_log_path(self, uuid: str) -> str | None:
        domain = self._domain(uuid)
        definition = ElementTree.fromstring(self._call(uuid, "read", domain.XMLDesc, 0))
        for serial in definition.iterfind("devices/serial"):
            log = serial.find("log")
            if log is not None and log.get("file"):
                return log.get("file")
            source = serial.find("source")
            if serial.get("type") == "file" and source is not None:
                return source.get("path")
        return None

    def console_output(self, uuid: str, max_bytes: int = MAX_CONSOLE_BYTES) -> str:
        """The tail of the guest's serial console log ("" before the guest wrote anything)."""
        path = self.console_log_path(uuid)
        if path is None or not os.path.exists(path):
            return ""
        with open(path, "rb") as stream:
            stream.seek(max(os.path.getsize(path) - max_bytes, 0))
            return stream.read().decode("utf-8", errors="replace")
