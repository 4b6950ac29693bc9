"""Bootable disk images without mounting anything: an MBR with syslinux's boot code, a FAT
partition holding syslinux, a kernel and an initramfs, and optionally an ext4 partition written
from a folder with mke2fs -d. The image builds share it.

Python's standard library only. Host tools: fdisk (sfdisk), dosfstools, mtools, syslinux,
syslinux-common, e2fsprogs and qemu-utils.
"""
import dataclasses
import os

from initramfs import MIB, run

SECTOR = 512
# Partitions start on 1 MiB boundaries, as modern partitioning tools place them.
ALIGNMENT = MIB // SECTOR
SYSLINUX_MBR = "/usr/lib/syslinux/mbr/mbr.bin"
# mtools refuses FAT geometries it finds odd; ours are mkfs.fat's own.
MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1"}


@dataclasses.dataclass(frozen=True)
class Partition:
    """One MBR entry: its first sector, its size in sectors, its type (as sfdisk spells it)."""
    start: int
    size: int
    type: str
    bootable: bool = False

    @property
    def offset(self) -> int:
        return self.start * SECTOR

    @property
    def end(self) -> int:
        return self.start + self.size


def lay_out(*specs) -> list[Partition]:
    """Partitions one after another from 1 MiB; each spec is (size in MiB, type, bootable)."""
    start, partitions = ALIGNMENT, []
    for size_mib, type_, bootable in specs:
        partition = Partition(start, size_mib * ALIGNMENT, type_, bootable)
        partitions.append(partition)
        start = partition.end
    return partitions


def sfdisk_script(partitions) -> str:
    """What sfdisk reads to write an MBR holding exactly these partitions."""
    lines = ["label: dos"]
    for partition in partitions:
        line = f"start={partition.start}, size={partition.size}, type={partition.type}"
        lines.append(line + (", bootable" if partition.bootable else ""))
    return "\n".join(lines) + "\n"


def syslinux_cfg(kernel_args: str) -> str:
    """syslinux.cfg booting /vmlinuz with /initrd.img at once, its menu on the serial port."""
    return ("SERIAL 0 115200\nDEFAULT stackbox\nPROMPT 0\nTIMEOUT 0\nLABEL stackbox\n"
            f"  LINUX /vmlinuz\n  INITRD /initrd.img\n  APPEND {kernel_args}\n")


def create(raw: str, partitions) -> None:
    """A raw disk file just large enough for `partitions`, with their MBR and its boot code."""
    with open(raw, "wb") as stream:
        stream.truncate(partitions[-1].end * SECTOR)
    run("sfdisk", "-q", raw, stdin=sfdisk_script(partitions))
    with open(SYSLINUX_MBR, "rb") as stream:
        boot_code = stream.read()[:440]
    with open(raw, "r+b") as stream:
        stream.write(boot_code)


def write_boot_partition(raw: str, partition: Partition, scratch: str, vmlinuz: str,
                         initrd: str, kernel_args: str) -> None:
    """FAT16 labelled STACKBOX on `partition`: syslinux, vmlinuz, initrd.img, syslinux.cfg."""
    # -h: hidden sectors = the partition's start, which syslinux's boot sector adds to reach it.
    run("mkfs.fat", "-F", "16", "-n", "STACKBOX", "-i", "5354424b", "-h", str(partition.start),
        f"--offset={partition.start}", raw, str(partition.size * SECTOR // 1024))
    config = os.path.join(scratch, "syslinux.cfg")
    with open(config, "w") as stream:
        stream.write(syslinux_cfg(kernel_args))
    env = dict(os.environ, **MTOOLS_ENV)
    target = f"{raw}@@{partition.offset}"
    for source, name in ((vmlinuz, "vmlinuz"), (initrd, "initrd.img"),
                         (config, "syslinux.cfg")):
        run("mcopy", "-o", "-i", target, source, f"::/{name}", env=env)
    run("syslinux", "--offset", str(partition.offset), "--install", raw, env=env)


def write_ext4_partition(raw: str, partition: Partition, source: str, uuid: str,
                         label: str) -> None:
    """ext4 with this uuid and label on `partition`, holding a copy of the folder `source`."""
    # 4 KiB blocks even when small (mke2fs would pick 1 KiB), since the file system grows later.
    run("mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-U", uuid, "-L", label,
        "-E", f"offset={partition.offset}", "-d", source, raw,
        f"{partition.size * SECTOR // 1024}k")


def to_qcow2(raw: str, qcow2: str) -> None:
    run("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2)
