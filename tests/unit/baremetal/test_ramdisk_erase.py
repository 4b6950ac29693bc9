"""The ramdisk's disk wipe (erase-devices.sh) with the same busybox the ramdisk runs, on files
standing in for disks, with a fake /sys naming their partitions."""
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "images", "deploy-ramdisk",
                      "rootfs", "usr", "lib", "stackbox", "erase-devices.sh")
MIB = 1024 * 1024


def erase(sysfs, *disks):
    return subprocess.run(["busybox", "sh", SCRIPT, *map(str, disks)],
                          env=dict(os.environ, SYSFS=str(sysfs)), capture_output=True, text=True)


def zeroed(path):
    """The [start, end) byte ranges of `path` that are zero, in 4 KiB steps."""
    data, ranges = path.read_bytes(), []
    for offset in range(0, len(data), 4096):
        if data[offset:offset + 4096] == bytes(4096):
            if ranges and ranges[-1][1] == offset:
                ranges[-1][1] = offset + 4096
            else:
                ranges.append([offset, offset + 4096])
    return [tuple(item) for item in ranges]


def test_disk_and_partition_signatures_are_zeroed_and_nothing_else(tmp_path):
    sysfs, disk = tmp_path / "sys", tmp_path / "vdz"
    disk.write_bytes(b"\xaa" * (80 * MIB))
    partition = sysfs / "block" / "vdz" / "vdz1"
    partition.mkdir(parents=True)
    (partition / "start").write_text(f"{2 * MIB // 512}\n")
    (partition / "size").write_text(f"{4 * MIB // 512}\n")

    result = erase(sysfs, disk)

    assert (result.returncode, result.stderr) == (0, "")
    assert zeroed(disk) == [
        (0, MIB),                            # MBR, GPT, most superblocks
        (2 * MIB, 3 * MIB),                  # the partition's start (its own superblock)
        (5 * MIB, 6 * MIB),                  # its end (md 1.0 metadata)
        (64 * MIB, 64 * MIB + 4096),         # btrfs's first superblock copy
        (79 * MIB, 80 * MIB)]                # the backup GPT
    assert disk.stat().st_size == 80 * MIB


def test_every_disk_is_wiped_even_small_ones(tmp_path):
    small, large = tmp_path / "vdx", tmp_path / "vdy"
    small.write_bytes(b"\xaa" * (MIB // 2))
    large.write_bytes(b"\xaa" * (3 * MIB))

    assert erase(tmp_path / "sys", small, large).returncode == 0
    assert small.read_bytes() == bytes(MIB // 2)
    assert small.stat().st_size == MIB // 2
    assert zeroed(large) == [(0, MIB), (2 * MIB, 3 * MIB)]


def test_a_missing_disk_fails(tmp_path):
    result = erase(tmp_path / "sys", tmp_path / "vdq")

    assert result.returncode == 1
    assert f"cannot read the size of {tmp_path / 'vdq'}" in result.stderr
