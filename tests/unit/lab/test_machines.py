"""The libvirt machine a lab BMC drives, on libvirt's in-process test driver (its stock
domain "test", running at first)."""
import pytest

from undercloud.lab import machines

TEST_URI = "test:///default"


@pytest.fixture
def machine():
    return machines.LibvirtDomain(TEST_URI, "test")


def test_power_off_then_on(machine):
    assert machine.power_state() == "on"
    machine.power_off()
    assert machine.power_state() == "off"
    machine.power_off()   # already off is fine, as on a real BMC
    machine.power_on()
    assert machine.power_state() == "on"


def test_boot_device_keeps_the_other_device_second(machine):
    machine.set_boot_device("network")
    assert machine.boot_device() == "network"
    machine.set_boot_device("hd")
    assert machine.boot_device() == "hd"
    definition = machine._definition(machine._domain())
    assert [boot.get("dev") for boot in definition.findall("os/boot")] == ["hd", "network"]


def test_an_unknown_boot_device_is_refused(machine):
    with pytest.raises(ValueError, match="cdrom"):
        machine.set_boot_device("cdrom")


def test_reset_boots_the_machine_again(machine):
    machine.reset()
    assert machine.power_state() == "on"


def test_a_missing_domain_is_a_machine_error():
    with pytest.raises(machines.MachineError, match="no-such-node"):
        machines.LibvirtDomain(TEST_URI, "no-such-node").power_state()


def test_an_unknown_machine_type_is_refused():
    with pytest.raises(ValueError, match="container"):
        machines.from_spec({"type": "container"})


def test_a_container_that_does_not_run_is_off(tmp_path):
    machine = machines.from_spec({"type": "nspawn", "name": "oc-0",
                                  "rootfs": str(tmp_path / "rootfs"), "bridge": "br-test",
                                  "log_file": str(tmp_path / "oc-0.log")})
    assert machine.power_state() == "off"
    machine.power_off()   # already off is fine
    machine.shutdown()


def test_a_container_keeps_its_boot_device(tmp_path):
    machine = machines.NspawnMachine("oc-0", str(tmp_path / "rootfs"), "br-test",
                                     str(tmp_path / "oc-0.log"))
    assert machine.boot_device() == "hd"
    machine.set_boot_device("network")
    assert machine.boot_device() == "network"
    with pytest.raises(ValueError, match="cdrom"):
        machine.set_boot_device("cdrom")


def test_a_container_without_its_root_file_system_cannot_start(tmp_path):
    machine = machines.NspawnMachine("oc-0", str(tmp_path / "rootfs"), "br-test",
                                     str(tmp_path / "oc-0.log"))
    with pytest.raises(machines.MachineError, match="oc-0.*no root file system"):
        machine.power_on()
