"""The ramdisk's inventory (inventory.sh, disks.sh, json.awk) read from fake /proc and /sys
trees with the same busybox the ramdisk runs: IPA's format, with what a real machine shows."""
import json
import os
import shutil
import struct
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
SCRIPTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "images", "deploy-ramdisk",
                       "rootfs", "usr", "lib", "stackbox")
MIB = 1024 * 1024
CPUINFO = "".join(f"processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)"
                  f" CPU E5-2680 v4 @ 2.40GHz\nflags\t\t: fpu vme\n\n" for n in range(4))
MEMINFO = "MemTotal:       16303964 kB\nMemFree:        15000000 kB\n"


def put(root, path, text):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)


def dimm(size_word, extended_mb=0):
    """An SMBIOS type 17 (memory device) structure's formatted area, as /sys shows it raw."""
    raw = bytearray(0x28)
    raw[0], raw[1] = 17, 0x28
    struct.pack_into("<H", raw, 0x0C, size_word)
    struct.pack_into("<I", raw, 0x1C, extended_mb)
    return bytes(raw) + b"DIMM 0\0\0"


@pytest.fixture
def machine(tmp_path):
    """A server: 4 CPUs, 2 x 8 GiB DIMMs and an empty slot, two disks (and devices that are
    not disks), one NIC (plus lo and a bridge), Dell's DMI strings, BIOS boot."""
    proc, sys = tmp_path / "proc", tmp_path / "sys"
    put(proc, "cpuinfo", CPUINFO)
    put(proc, "meminfo", MEMINFO)
    for index, word in enumerate([8192, 0, 8192]):
        put(sys, f"firmware/dmi/entries/17-{index}/raw", dimm(word))
    put(sys, "block/sda/size", "3907029168\n")
    put(sys, "block/sda/device/model", "PERC H730P Mini \n")
    put(sys, "block/sda/device/vendor", "DELL    \n")
    put(sys, "block/sda/device/serial", "  00a1b2c3d4  \n")
    put(sys, "block/sda/queue/rotational", "1\n")
    put(sys, "block/sda/sda1/start", "2048\n")
    put(sys, "block/vda/size", "262144\n")
    put(sys, "block/vda/serial", "disk-serial-1\n")
    put(sys, "block/vda/device/vendor", "0x1af4\n")
    put(sys, "block/vda/queue/rotational", "0\n")
    for name in ("loop0", "sr0", "dm-0", "md127", "zram0", "ram0"):
        put(sys, f"block/{name}/size", "2048\n")
    put(sys, "block/nbd0/size", "0\n")
    put(sys, "class/net/sbx0/address", "52:54:00:ab:cd:ef\n")
    (sys / "class/net/sbx0/device").mkdir()
    put(sys, "class/net/lo/address", "00:00:00:00:00:00\n")
    put(sys, "class/net/sbxbr0/address", "52:54:00:00:00:99\n")
    put(sys, "class/dmi/id/sys_vendor", "Dell Inc.\n")
    put(sys, "class/dmi/id/product_name", "PowerEdge R640\n")
    put(sys, "class/dmi/id/product_serial", "7XYZ123\n")
    return tmp_path


def inventory(root, bootif=""):
    environment = dict(os.environ, SYSFS=str(root / "sys"), PROCFS=str(root / "proc"),
                       BOOTIF=bootif)
    flat = subprocess.run(["busybox", "sh", os.path.join(SCRIPTS, "inventory.sh")],
                          env=environment, capture_output=True, text=True, check=True).stdout
    document = subprocess.run(["busybox", "awk", "-f", os.path.join(SCRIPTS, "json.awk")],
                              input=flat, capture_output=True, text=True, check=True).stdout
    return json.loads(document)


def test_a_servers_inventory_in_ipas_format(machine):
    assert inventory(machine, bootif="52:54:00:ab:cd:ef") == {
        "cpu": {"count": 4, "architecture": os.uname().machine,
                "model_name": "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"},
        "memory": {"total": 16303964 * 1024, "physical_mb": 16384},
        "disks": [
            {"name": "/dev/sda", "size": 3907029168 * 512, "model": "PERC H730P Mini",
             "vendor": "DELL", "serial": "00a1b2c3d4", "rotational": True},
            {"name": "/dev/vda", "size": 128 * MIB, "model": None, "vendor": "0x1af4",
             "serial": "disk-serial-1", "rotational": False}],
        # Not on the host, so no address: the ramdisk's NIC has its lease's.
        "interfaces": [{"name": "sbx0", "mac_address": "52:54:00:ab:cd:ef",
                        "ipv4_address": None}],
        "system_vendor": {"manufacturer": "Dell Inc.", "product_name": "PowerEdge R640",
                          "serial_number": "7XYZ123"},
        "boot": {"current_boot_mode": "bios", "pxe_interface": "52:54:00:ab:cd:ef"},
        "bmc_address": None}


@pytest.mark.parametrize("dimms, physical_mb", [
    ([dimm(0x8000 | 16384), dimm(1024)], 1040),       # one given in KiB
    ([dimm(0x7FFF, extended_mb=65536)], 65536),        # too big for the word: extended size
    ([dimm(0xFFFF), dimm(4096)], 4096),                # a size the firmware does not know
])
def test_physical_memory_sums_the_smbios_memory_devices(machine, dimms, physical_mb):
    shutil.rmtree(machine / "sys/firmware/dmi/entries")
    for index, raw in enumerate(dimms):
        put(machine / "sys", f"firmware/dmi/entries/17-{index}/raw", raw)

    assert inventory(machine)["memory"]["physical_mb"] == physical_mb


def test_without_smbios_physical_memory_counts_the_online_memory_blocks(machine):
    shutil.rmtree(machine / "sys/firmware")
    put(machine / "sys", "devices/system/memory/block_size_bytes", "8000000\n")
    for index, online in enumerate("1101"):
        put(machine / "sys", f"devices/system/memory/memory{index}/online", f"{online}\n")

    assert inventory(machine)["memory"]["physical_mb"] == 3 * 128


def test_without_either_physical_memory_rounds_the_kernels_total_up_to_a_mib(machine):
    shutil.rmtree(machine / "sys/firmware")

    assert inventory(machine)["memory"]["physical_mb"] == -(-16303964 * 1024 // MIB)


def test_a_bare_machine_reads_as_empty_lists_and_nulls(tmp_path):
    put(tmp_path / "proc", "cpuinfo", "processor\t: 0\n")
    put(tmp_path / "proc", "meminfo", "MemTotal:       1000 kB\n")
    (tmp_path / "sys/firmware/efi").mkdir(parents=True)

    found = inventory(tmp_path)

    assert found["cpu"]["model_name"] is None
    assert found["disks"] == [] and found["interfaces"] == []
    assert found["system_vendor"] == {"manufacturer": None, "product_name": None,
                                      "serial_number": None}
    assert found["boot"] == {"current_boot_mode": "uefi", "pxe_interface": None}


def test_disks_lists_only_disks_in_name_order(machine):
    result = subprocess.run(["busybox", "sh", os.path.join(SCRIPTS, "disks.sh")],
                            env=dict(os.environ, SYSFS=str(machine / "sys")),
                            capture_output=True, text=True, check=True)

    assert result.stdout.splitlines() == ["/dev/sda", "/dev/vda"]


def test_the_api_accepts_the_inventory(machine):
    from undercloud.baremetal import schemas

    schemas.check({"inventory": inventory(machine)}, schemas.CONTINUE_INSPECTION)
