"""The overcloud node's bootable disk: MBR (syslinux's), p1 FAT16 64 MiB holding syslinux, the
kernel and our initramfs, p2 ext4 `stackbox-root` holding the rootfs, as qcow2 + manifest.json.
The initramfs (initramfs/init) grows p2 into the disk, applies the config drive, starts systemd.
Host tools: those of images/lib/disk.py and root_tree.py, busybox-static."""
import json
import os
import shutil
import tempfile
import time
import uuid

from disk import create, lay_out, to_qcow2, write_boot_partition, write_ext4_partition
from initramfs import MIB, initramfs, kernel_files, modules_in_load_order, sha256
from root_tree import content_bytes, stage

HERE = os.path.dirname(os.path.abspath(__file__))
INITRAMFS = os.path.join(HERE, "initramfs")
SCRIPTS = "usr/lib/stackbox"
EXECUTABLES = {"init", f"{SCRIPTS}/grow-partition.sh", f"{SCRIPTS}/node-config.sh"}
# The tiny guest's metadata readers serve the node too.
SHARED_FILES = {f"{SCRIPTS}/{name}": os.path.join(HERE, "..", "tiny-guest", "rootfs", SCRIPTS,
                                                  name)
                for name in ("jsonflat.awk", "static-ipv4.awk")}
# What /init needs to reach the root and the config drive (dependencies are added): virtio,
# SATA/IDE, NVMe and common SCSI HBAs, disks and CD-ROMs, ext4 with crc32c (which it asks the
# crypto API for, not a module dependency), ISO 9660 and vfat. NICs load after the switch.
MODULES = [
    "virtio_pci", "virtio_blk", "virtio_scsi", "ahci", "ata_piix", "ata_generic", "nvme",
    "megaraid_sas", "mpt3sas", "sd_mod", "sr_mod", "crc32c_generic", "ext4", "isofs", "vfat",
    "nls_cp437", "nls_iso8859_1",
]
BOOT_MIB = 64
ROOT_LABEL = "stackbox-root"
IMAGE = "overcloud-node.qcow2"


def kernel_args(root_uuid: str) -> str:
    return f"root=UUID={root_uuid} console=tty0 console=ttyS0,115200n8"


def root_mib(content: int) -> int:
    """The root partition's MiB for `content` bytes: a quarter more and 64 MiB to boot in."""
    return -(-(content * 5 // 4 + 64 * MIB) // MIB)


def build_disk(rootfs: str, output: str, kernel_root: str, log) -> dict:
    """output/overcloud-node.qcow2 and output/manifest.json; returns the manifest."""
    started = time.monotonic()
    vmlinuz, release, modules_dir = kernel_files(kernel_root)
    modules = modules_in_load_order(modules_dir, MODULES)
    root_uuid = str(uuid.uuid4())
    os.makedirs(output, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output) as scratch:
        staging = os.path.join(scratch, "root")
        stage(rootfs, staging, modules_dir, release, root_uuid)
        content = content_bytes(staging)
        boot, root = lay_out((BOOT_MIB, "c", True), (root_mib(content), "83", False))
        raw = os.path.join(scratch, "disk.raw")
        create(raw, [boot, root])
        write_ext4_partition(raw, root, staging, root_uuid, ROOT_LABEL)
        shutil.rmtree(staging)
        initrd = os.path.join(scratch, "initrd.img")
        with open(initrd, "wb") as stream:
            stream.write(initramfs(INITRAMFS, modules, EXECUTABLES, SHARED_FILES))
        write_boot_partition(raw, boot, scratch, vmlinuz, initrd, kernel_args(root_uuid))
        image = os.path.join(scratch, IMAGE)
        to_qcow2(raw, image)
        files = {IMAGE: {"bytes": os.path.getsize(image), "sha256": sha256(image),
                         "virtual_bytes": os.path.getsize(raw)}}
        os.replace(image, os.path.join(output, IMAGE))
    manifest = {
        "kernel": release, "kernel_args": kernel_args(root_uuid), "root_uuid": root_uuid,
        "root_content_bytes": content,
        "partitions": [{"start": part.start, "sectors": part.size, "type": part.type}
                       for part in (boot, root)],
        "initramfs_modules": [name for name, _ in modules], "files": files,
        "build_seconds": round(time.monotonic() - started, 1)}
    with open(os.path.join(output, "manifest.json"), "w") as stream:
        json.dump(manifest, stream, indent=2)
    log(f"built {os.path.join(output, IMAGE)} (kernel {release}, root {root.size // 2048} MiB) "
        f"in {manifest['build_seconds']} s")
    return manifest
