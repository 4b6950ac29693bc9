"""images/overcloud-node/build --disk on a fake kernel and a fake cached rootfs, with the real
disk tools: the disk's partitions, what the boot partition and the root hold, and a cache left
as it was."""
import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import newc
from tests.fixtures.fake_kernel import RELEASE, kernel_tree, load_build

from node_disk import MODULES

BUILD = Path(__file__).resolve().parents[3] / "images" / "overcloud-node" / "build"
TOOLS = ["sfdisk", "mkfs.fat", "mcopy", "mtype", "syslinux", "mke2fs", "debugfs", "depmod",
         "qemu-img", "busybox"]


def build_module():
    return load_build(BUILD, "overcloud_node_build")


def packages():
    return build_module().PACKAGES


@pytest.fixture
def kernel_root(tmp_path):
    paths = [f"kernel/drivers/{name}.ko" for name in MODULES] + [
        "kernel/drivers/net/ethernet/intel/e1000.ko", "kernel/drivers/gpu/drm/drm.ko"]
    return kernel_tree(tmp_path / "kernel", {path: () for path in paths})


@pytest.fixture
def cached_rootfs(tmp_path):
    """OUTPUT/rootfs as a finished rootfs build leaves it (its stamp lists every package)."""
    output = tmp_path / "node"
    rootfs = output / "rootfs"
    for folder in ("etc", "usr/lib", "usr/sbin", "root", "var/lib"):
        (rootfs / folder).mkdir(parents=True)
    os.symlink("usr/lib", rootfs / "lib")
    (rootfs / "etc" / "fstab").write_text("# UNCONFIGURED FSTAB FOR BASE SYSTEM\n")
    (rootfs / "etc" / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    os.chown(rootfs / "etc" / "shadow", 0, 42)
    os.chmod(rootfs / "etc" / "shadow", 0o640)
    (output / "rootfs.done").write_text(f"bookworm mirror\n{' '.join(packages())}\n")
    return output


def debugfs(image, request):
    return subprocess.run(["debugfs", "-R", request, str(image)], capture_output=True,
                          text=True, check=True).stdout


def test_a_rootfs_built_before_a_package_joined_the_list_gets_it(tmp_path):
    build = build_module()
    stamp = tmp_path / "rootfs.done"
    stamp.write_text("bookworm http://deb.debian.org/debian\n")  # before stamps listed them
    assert build._missing_packages(str(stamp)) == build.PACKAGES

    stamp.write_text(f"bookworm mirror\n{' '.join(p for p in build.PACKAGES if p != 'udev')}\n")
    assert build._missing_packages(str(stamp)) == ["udev"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the build needs root (the rootfs's owners)")
@pytest.mark.skipif(any(shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin")
                        is None for tool in TOOLS), reason=f"needs {', '.join(TOOLS)}")
def test_the_disk_boots_our_initramfs_from_fat_and_holds_the_rootfs_on_ext4(
        kernel_root, cached_rootfs, tmp_path):
    disk_dir = tmp_path / "disk"
    result = subprocess.run([sys.executable, str(BUILD), "--output", str(cached_rootfs),
                             "--disk", str(disk_dir), "--kernel-root", str(kernel_root),
                             "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(disk_dir / "overcloud-node.qcow2")

    manifest = json.loads((disk_dir / "manifest.json").read_text())
    root_uuid = manifest["root_uuid"]
    assert manifest["kernel"] == RELEASE
    assert manifest["kernel_args"] == \
        f"root=UUID={root_uuid} console=tty0 console=ttyS0,115200n8"
    boot, root = manifest["partitions"]
    assert boot == {"start": 2048, "sectors": 131072, "type": "c"}
    assert root["start"] == 133120 and root["type"] == "83"
    assert manifest["files"]["overcloud-node.qcow2"]["virtual_bytes"] == \
        (root["start"] + root["sectors"]) * 512
    raw = tmp_path / "disk.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw",
                    str(disk_dir / "overcloud-node.qcow2"), str(raw)], check=True)

    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    fat = f"{raw}@@{boot['start'] * 512}"
    syslinux_cfg = subprocess.run(["mtype", "-i", fat, "::/syslinux.cfg"], env=env,
                                  capture_output=True, text=True, check=True).stdout
    assert f"  APPEND {manifest['kernel_args']}\n" in syslinux_cfg
    initrd = subprocess.run(["mtype", "-i", fat, "::/initrd.img"], env=env,
                            capture_output=True, check=True).stdout
    entries = newc.entries(gzip.decompress(initrd))
    scripts = "usr/lib/stackbox"
    assert {name for name, (mode, _) in entries.items() if stat.S_ISREG(mode) and mode & 0o111} \
        == {"bin/busybox", "init", f"{scripts}/grow-partition.sh", f"{scripts}/node-config.sh"}
    assert {f"{scripts}/jsonflat.awk", f"{scripts}/static-ipv4.awk"} <= set(entries)
    assert entries["etc/modules"][1].decode().split() == manifest["initramfs_modules"] == MODULES

    ext4 = tmp_path / "root.img"
    with open(raw, "rb") as disk, open(ext4, "wb") as stream:
        disk.seek(root["start"] * 512)
        stream.write(disk.read(root["sectors"] * 512))
    assert debugfs(ext4, "cat /etc/fstab") == \
        f"UUID={root_uuid} / ext4 defaults,x-systemd.growfs 0 1\n"
    drivers = debugfs(ext4, f"ls -p /usr/lib/modules/{RELEASE}/kernel/drivers")
    assert "/net/" in drivers and "/gpu/" not in drivers
    assert "/modules.dep/" in debugfs(ext4, f"ls -p /usr/lib/modules/{RELEASE}")
    assert "Group:    42" in debugfs(ext4, "stat /etc/shadow")  # owners kept
    assert "Filesystem volume name:   stackbox-root" in subprocess.run(
        ["dumpe2fs", "-h", str(ext4)], capture_output=True, text=True).stdout

    # The cached rootfs is the lab's and the repository build's too: left as it was.
    assert (cached_rootfs / "rootfs" / "etc" / "fstab").read_text() == \
        "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n"
    assert not (cached_rootfs / "rootfs" / "usr" / "lib" / "modules").exists()
    assert sorted(os.listdir(disk_dir)) == ["manifest.json", "overcloud-node.qcow2"]
