"""images/lib/disk.py: partitions laid out on MiB boundaries, the sfdisk script and syslinux.cfg
they become, and a real (small) disk assembled from them with the host's tools."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

from disk import (Partition, create, lay_out, sfdisk_script, syslinux_cfg, write_boot_partition,
                  write_ext4_partition)

TOOLS = ["sfdisk", "mkfs.fat", "mcopy", "mtype", "syslinux", "mke2fs", "debugfs"]


def test_partitions_follow_each_other_from_1_mib():
    boot, root = lay_out((64, "c", True), (700, "83", False))

    assert boot == Partition(start=2048, size=131072, type="c", bootable=True)
    assert root == Partition(start=133120, size=1433600, type="83", bootable=False)
    assert (boot.end, root.offset, root.end) == (133120, 133120 * 512, 1566720)


def test_the_sfdisk_script_names_every_partition_exactly():
    partitions = lay_out((63, "c", True), (10, "83", False))

    assert sfdisk_script(partitions) == (
        "label: dos\n"
        "start=2048, size=129024, type=c, bootable\n"
        "start=131072, size=20480, type=83\n")


def test_syslinux_boots_the_kernel_at_once_with_the_given_arguments():
    assert syslinux_cfg("root=UUID=abc console=ttyS0,115200n8") == (
        "SERIAL 0 115200\n"
        "DEFAULT stackbox\n"
        "PROMPT 0\n"
        "TIMEOUT 0\n"
        "LABEL stackbox\n"
        "  LINUX /vmlinuz\n"
        "  INITRD /initrd.img\n"
        "  APPEND root=UUID=abc console=ttyS0,115200n8\n")


@pytest.mark.skipif(any(shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
                        is None for tool in TOOLS),
                    reason=f"needs {', '.join(TOOLS)} (fdisk, dosfstools, mtools, syslinux, "
                           "e2fsprogs)")
def test_a_disk_with_a_boot_and_an_ext4_partition(tmp_path):
    (tmp_path / "vmlinuz").write_bytes(b"kernel")
    (tmp_path / "initrd.img").write_bytes(b"initramfs")
    source = tmp_path / "root" / "etc"
    source.mkdir(parents=True)
    (source / "hostname").write_text("node\n")
    raw = str(tmp_path / "disk.raw")
    boot, root = lay_out((32, "c", True), (16, "83", False))
    root_uuid = str(uuid.uuid4())

    create(raw, [boot, root])
    write_boot_partition(raw, boot, str(tmp_path), str(tmp_path / "vmlinuz"),
                         str(tmp_path / "initrd.img"), "root=UUID=x")
    write_ext4_partition(raw, root, str(tmp_path / "root"), root_uuid, "stackbox-root")

    assert os.path.getsize(raw) == 49 * 1024 * 1024
    table = json.loads(subprocess.run(["sfdisk", "--json", raw], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    assert [(part["start"], part["size"], part["type"], part.get("bootable", False))
            for part in table["partitions"]] == [(2048, 65536, "c", True),
                                                 (67584, 32768, "83", False)]
    with open(raw, "rb") as stream:
        head = stream.read(512)
    with open("/usr/lib/syslinux/mbr/mbr.bin", "rb") as stream:
        assert head[:440] == stream.read()[:440]
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    fat = f"{raw}@@{boot.offset}"
    assert subprocess.run(["mtype", "-i", fat, "::/initrd.img"], env=env, capture_output=True,
                          check=True).stdout == b"initramfs"
    assert b"APPEND root=UUID=x" in subprocess.run(
        ["mtype", "-i", fat, "::/syslinux.cfg"], env=env, capture_output=True, check=True).stdout
    ext4 = tmp_path / "root.img"
    with open(raw, "rb") as disk, open(ext4, "wb") as stream:
        disk.seek(root.offset)
        stream.write(disk.read(root.size * 512))
    show = subprocess.run(["debugfs", "-R", "cat /etc/hostname", str(ext4)],
                          capture_output=True, text=True, check=True)
    assert show.stdout == "node\n"
    header = subprocess.run(["dumpe2fs", "-h", str(ext4)], capture_output=True, text=True,
                            check=True).stdout
    assert f"Filesystem UUID:          {root_uuid}" in header
    assert "Filesystem volume name:   stackbox-root" in header
    assert "Block size:               4096" in header
