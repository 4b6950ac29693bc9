"""The libvirt driver against libvirt's own test driver: each test gets a fresh hypervisor."""
import os
import uuid
import xml.etree.ElementTree as ElementTree

import pytest

libvirt = pytest.importorskip("libvirt")

from undercloud.compute.drivers import power_state  # noqa: E402
from undercloud.compute.drivers.errors import (  # noqa: E402
    DriverError, InstanceExists, InstanceInvalidState, InstanceNotFound, NicNotFound)
from undercloud.compute.drivers.instance import Instance, Nic  # noqa: E402
from undercloud.compute.drivers.libvirt import LibvirtDriver  # noqa: E402


@pytest.fixture
def driver(tmp_path):
    # A test:///<file> URI gives every connection its own empty in-memory host.
    node = tmp_path / "node.xml"
    node.write_text("<node/>")
    instances = tmp_path / "instances"
    driver = LibvirtDriver(f"test://{node}", instances_dir=str(instances))
    yield driver
    driver.close()


def make_instance(tmp_path, **overrides):
    instance_id = str(uuid.uuid4())
    fields = dict(uuid=instance_id, name=f"instance-{instance_id}", vcpus=1, memory_mb=128,
                  disk_path=str(tmp_path / instance_id / "disk"),
                  console_log_path=str(tmp_path / instance_id / "console.log"))
    fields.update(overrides)
    return Instance(**fields)


@pytest.fixture
def running(driver, tmp_path):
    instance = make_instance(tmp_path)
    driver.spawn(instance)
    return instance


def test_domain_xml_describes_the_instance(driver, tmp_path):
    instance = make_instance(
        tmp_path, vcpus=2, memory_mb=256, config_drive_path="/srv/i/disk.config",
        display_name="web & <db>",
        nics=[Nic("fa:16:3e:00:00:01", bridge="brq1", tap="tap1", mtu=1450),
              Nic("fa:16:3e:00:00:02", tap="tap2")])

    domain = ElementTree.fromstring(driver.domain_xml(instance))

    assert domain.get("type") == "qemu"
    assert domain.findtext("uuid") == instance.uuid
    assert domain.findtext("name") == instance.name
    assert domain.findtext("title") == "web & <db>"
    assert domain.find("memory").get("unit") == "MiB" and domain.findtext("memory") == "256"
    assert domain.findtext("vcpu") == "2"
    assert domain.find("features/acpi") is not None
    disks = domain.findall("devices/disk")
    assert [(d.get("device"), d.find("source").get("file"), d.find("target").get("bus"))
            for d in disks] == [("disk", instance.disk_path, "virtio"),
                                ("cdrom", "/srv/i/disk.config", "ide")]
    assert disks[0].find("driver").get("type") == "qcow2"
    assert disks[1].find("readonly") is not None
    nics = domain.findall("devices/interface")
    assert [(n.get("type"), n.find("mac").get("address"), n.find("target").get("dev"))
            for n in nics] == [("bridge", "fa:16:3e:00:00:01", "tap1"),
                               ("ethernet", "fa:16:3e:00:00:02", "tap2")]
    assert nics[0].find("source").get("bridge") == "brq1"
    assert nics[0].find("mtu").get("size") == "1450"
    assert domain.find("devices/serial/log").get("file") == instance.console_log_path


def test_domain_xml_without_config_drive_nics_or_log(driver, tmp_path):
    instance = make_instance(tmp_path, console_log_path=None)

    domain = ElementTree.fromstring(driver.domain_xml(instance))

    assert [d.get("device") for d in domain.findall("devices/disk")] == ["disk"]
    assert domain.findall("devices/interface") == []
    assert domain.find("devices/serial/log") is None
    assert domain.find("title") is None


def test_direct_kernel_boot(driver, tmp_path):
    instance = make_instance(tmp_path, kernel_path="/k/vmlinuz", ramdisk_path="/k/initrd.img",
                             kernel_args="console=ttyS0")

    domain = ElementTree.fromstring(driver.domain_xml(instance))

    assert domain.findtext("os/kernel") == "/k/vmlinuz"
    assert domain.findtext("os/initrd") == "/k/initrd.img"
    assert domain.findtext("os/cmdline") == "console=ttyS0"


def test_kvm_adds_host_cpu_model(tmp_path):
    node = tmp_path / "node.xml"
    node.write_text("<node/>")
    driver = LibvirtDriver(f"test://{node}", virt_type="kvm")

    domain = ElementTree.fromstring(driver.domain_xml(make_instance(tmp_path)))

    assert domain.get("type") == "kvm"
    assert domain.find("cpu").get("mode") == "host-model"


def test_virt_type_must_be_known():
    with pytest.raises(ValueError, match="auto, kvm or qemu"):
        LibvirtDriver("test:///default", virt_type="xen")


class FakeConnection:
    """Just the two calls KVM detection makes."""

    def __init__(self, cpu_features, kvm_domains):
        self.cpu_features, self.kvm_domains = cpu_features, kvm_domains

    def getCapabilities(self):
        features = "".join(f"<feature name='{name}'/>" for name in self.cpu_features)
        return f"<capabilities><host><cpu><arch>x86_64</arch>{features}</cpu></host></capabilities>"

    def getDomainCapabilities(self, emulator, arch, machine, virt_type):
        if not self.kvm_domains:
            raise libvirt.libvirtError("KVM is not supported by '/usr/bin/qemu-system-x86_64'")
        return "<domainCapabilities/>"

    def isAlive(self):
        return True


@pytest.mark.parametrize("features, kvm_domains, expected", [
    (["vmx", "sse2"], True, "kvm"),
    (["svm"], True, "kvm"),
    (["sse2"], True, "qemu"),      # /dev/kvm without hardware virtualization (nested PVM)
    (["vmx"], False, "qemu"),      # hardware virtualization, but no usable /dev/kvm
])
def test_kvm_only_when_it_can_run_guests(features, kvm_domains, expected, monkeypatch):
    monkeypatch.setattr("undercloud.compute.drivers.libvirt._local_cpu_flags", set)
    driver = LibvirtDriver("qemu:///system")
    driver._connection = FakeConnection(features, kvm_domains)

    assert driver.virt_type == expected


def test_local_cpu_flags_count_for_local_hypervisors(monkeypatch):
    monkeypatch.setattr("undercloud.compute.drivers.libvirt._local_cpu_flags", lambda: {"vmx"})
    local, remote = LibvirtDriver("qemu:///system"), LibvirtDriver("qemu+ssh://far/system")
    local._connection = remote._connection = FakeConnection(["sse2"], True)

    assert (local.virt_type, remote.virt_type) == ("kvm", "qemu")


def test_spawn_runs_the_guest(driver, running):
    assert driver.power_state(running.uuid) == power_state.RUNNING
    listed = {info.uuid: info for info in driver.list_instances()}
    assert listed[running.uuid].name == running.name
    assert listed[running.uuid].power_state == power_state.RUNNING
    info = driver.instance_info(running.uuid)
    assert (info.vcpus, info.memory_mb) == (1, 128)


def test_spawn_twice_is_refused(driver, running):
    with pytest.raises(InstanceExists, match=running.uuid):
        driver.spawn(running)


def test_define_with_a_taken_name_is_refused(driver, running, tmp_path):
    other = make_instance(tmp_path, name=running.name)

    with pytest.raises(InstanceExists, match=other.uuid):
        driver.define(other)


def test_spawn_of_a_stopped_instance_redefines_and_starts_it(driver, running):
    driver.destroy(running.uuid)
    running.memory_mb = 256

    driver.spawn(running)

    assert driver.power_state(running.uuid) == power_state.RUNNING
    assert driver.instance_info(running.uuid).memory_mb == 256


def test_a_guest_that_cannot_start_leaves_no_domain(driver, tmp_path, monkeypatch):
    def refuse(domain):
        raise libvirt.libvirtError("qemu unexpectedly closed the monitor")
    monkeypatch.setattr(libvirt.virDomain, "create", refuse)
    instance = make_instance(tmp_path)

    with pytest.raises(DriverError, match=f"cannot start instance {instance.uuid}"):
        driver.spawn(instance)

    assert driver.power_state(instance.uuid) == power_state.NOSTATE


def test_unknown_instance(driver):
    unknown = str(uuid.uuid4())

    assert driver.power_state(unknown) == power_state.NOSTATE
    for operation in (driver.destroy, driver.pause, driver.start, driver.console_output):
        with pytest.raises(InstanceNotFound, match=unknown):
            operation(unknown)
    driver.undefine(unknown)  # deleting what is gone is not an error


def test_pause_and_unpause(driver, running):
    driver.pause(running.uuid)
    assert driver.power_state(running.uuid) == power_state.PAUSED
    with pytest.raises(InstanceInvalidState, match="it is paused, it must be running"):
        driver.pause(running.uuid)

    driver.unpause(running.uuid)
    assert driver.power_state(running.uuid) == power_state.RUNNING
    with pytest.raises(InstanceInvalidState, match=running.uuid):
        driver.unpause(running.uuid)


def test_suspend_saves_memory_and_resume_restores_it(driver, running):
    driver.suspend(running.uuid)
    assert driver.power_state(running.uuid) == power_state.SUSPENDED
    with pytest.raises(InstanceInvalidState):
        driver.pause(running.uuid)

    driver.resume(running.uuid)
    assert driver.power_state(running.uuid) == power_state.RUNNING
    with pytest.raises(InstanceInvalidState, match="it is running, it must be suspended"):
        driver.resume(running.uuid)


def test_graceful_shutdown(driver, running):
    assert driver.shutdown(running.uuid, timeout=5) is True
    assert driver.power_state(running.uuid) == power_state.SHUTDOWN
    assert driver.shutdown(running.uuid, timeout=5) is True  # already off


def test_shutdown_destroys_a_guest_that_ignores_it(driver, running, monkeypatch):
    monkeypatch.setattr(libvirt.virDomain, "shutdown", lambda domain: 0)

    assert driver.shutdown(running.uuid, timeout=0.5, retry_interval=0.1) is False
    assert driver.power_state(running.uuid) == power_state.SHUTDOWN


def test_destroy_and_start(driver, running):
    driver.destroy(running.uuid)
    assert driver.power_state(running.uuid) == power_state.SHUTDOWN
    driver.destroy(running.uuid)  # already off

    driver.start(running.uuid)
    assert driver.power_state(running.uuid) == power_state.RUNNING


def test_soft_reboot(driver, running):
    assert driver.reboot(running.uuid) == "soft"
    assert driver.power_state(running.uuid) == power_state.RUNNING


def test_soft_reboot_falls_back_to_hard(driver, running, monkeypatch):
    monkeypatch.setattr("undercloud.compute.drivers.libvirt.LibvirtDriver.shutdown",
                        lambda self, uuid, timeout=60, retry_interval=10: False)

    assert driver.reboot(running.uuid, timeout=0.5) == "hard"
    assert driver.power_state(running.uuid) == power_state.RUNNING


def test_hard_reboot_boots_afresh_even_when_suspended(driver, running):
    driver.suspend(running.uuid)

    assert driver.reboot(running.uuid, hard=True) == "hard"

    assert driver.power_state(running.uuid) == power_state.RUNNING
    assert not driver.connection.lookupByUUIDString(running.uuid).hasManagedSaveImage(0)


def test_undefine_forgets_a_running_or_suspended_guest(driver, running, tmp_path):
    suspended = make_instance(tmp_path)
    driver.spawn(suspended)
    driver.suspend(suspended.uuid)

    driver.undefine(running.uuid)
    driver.undefine(suspended.uuid)

    assert driver.power_state(running.uuid) == power_state.NOSTATE
    assert driver.power_state(suspended.uuid) == power_state.NOSTATE
    assert driver.list_instances() == []


def test_nics_join_the_definition_where_libvirt_cannot_hot_plug(driver, running):
    # libvirt's test driver cannot hot-plug; the lab test plugs NICs into a real guest.
    driver.attach_interface(running.uuid, Nic("fa:16:3e:00:00:05", bridge="br0"))
    domain = driver._domain(running.uuid)
    assert "fa:16:3e:00:00:05" in domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    driver.detach_interface(running.uuid, "fa:16:3e:00:00:05")
    assert "fa:16:3e:00:00:05" not in domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    with pytest.raises(NicNotFound, match=f"instance {running.uuid} has no NIC with MAC"):
        driver.detach_interface(running.uuid, "fa:16:3e:00:00:06")


def test_console_output_is_the_tail_of_the_serial_log(driver, running):
    assert driver.console_output(running.uuid) == ""  # nothing written yet
    log = running.console_log_path
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "wb") as stream:
        stream.write(b"early line\n" + b"x" * 50 + b"\nstackbox-guest: ready\n\xff")

    assert driver.console_output(running.uuid).startswith("early line\n")
    assert driver.console_output(running.uuid, max_bytes=24) == "\nstackbox-guest: ready\n\ufffd"


def test_host_resources(driver, running):
    resources = driver.host_resources()

    assert resources["hypervisor_type"] == "TEST"
    assert resources["cpu_arch"] == "x86_64"
    assert resources["vcpus"] >= 1 and resources["memory_mb"] > 0
    assert resources["vcpus_used"] == 1
    assert resources["disk_gb"] > 0 and 0 <= resources["disk_gb_free"] <= resources["disk_gb"]
    assert resources["virt_type"] == "qemu"


def test_spawn_explains_a_folder_qemu_cannot_reach(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o750)
    driver = LibvirtDriver("qemu:///system")  # the check runs before any connection
    instance = make_instance(private)

    with pytest.raises(DriverError, match=f"instance {instance.uuid}: qemu .* cannot reach "
                                          f".* because {private} is mode 750"):
        driver.spawn(instance)
