"""images/deploy-ramdisk/build on a fake kernel tree (no download): the initramfs holds busybox,
/init, the agent's scripts and the drivers in load order; --install puts the kernel and the
initramfs where the conductor looks."""
import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import newc
from tests.fixtures.fake_kernel import RELEASE, kernel_tree, load_build

BUILD = Path(__file__).resolve().parents[3] / "images" / "deploy-ramdisk" / "build"
# The few dependencies the fake kernel declares (the real ones are more).
DEPENDS = {"virtio_net": ["virtio_ring", "net_failover"], "net_failover": ["failover"],
           "virtio_blk": ["virtio_ring"], "ahci": ["libahci"]}
BUILT_IN = ["virtio_ring"]
pytestmark = pytest.mark.skipif(not os.path.exists("/bin/busybox"),
                                reason="busybox is not installed (Debian package busybox-static)")


def modules_wanted():
    return load_build(BUILD, "deploy_ramdisk_build").MODULES


@pytest.fixture
def kernel_root(tmp_path):
    names = set(modules_wanted()) | {dep for deps in DEPENDS.values() for dep in deps}
    return kernel_tree(tmp_path / "kernel",
                       {f"kernel/drivers/{name.replace('_', '-')}.ko": DEPENDS.get(name, [])
                        for name in names - set(BUILT_IN)}, BUILT_IN)


def test_build_and_install(kernel_root, tmp_path):
    output, data_dir = tmp_path / "out", tmp_path / "data"
    result = subprocess.run([sys.executable, str(BUILD), "--output", str(output), "--kernel-root",
                             str(kernel_root), "--install", str(data_dir), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(output)

    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["kernel"] == RELEASE
    order = manifest["modules"]
    assert "virtio_ring" not in order  # built in
    assert order.index("failover") < order.index("net_failover") < order.index("virtio_net")
    assert order.index("libahci") < order.index("ahci")
    for name in ("vmlinuz", "initrd.img"):
        assert manifest["files"][name]["bytes"] == (output / name).stat().st_size
        assert (data_dir / "baremetal" / "ramdisk" / name).read_bytes() == \
            (output / name).read_bytes()

    entries = newc.entries(gzip.decompress((output / "initrd.img").read_bytes()))
    executable = {name for name, (mode, _) in entries.items()
                  if stat.S_ISREG(mode) and mode & 0o111}
    scripts = "usr/lib/stackbox"
    assert executable == {"bin/busybox", "init", *(f"{scripts}/{name}" for name in (
        "agent.sh", "inventory.sh", "disks.sh", "write-image.sh", "write-configdrive.sh",
        "erase-devices.sh", "udhcpc.script"))}
    for name in ("lib.sh", "json.awk", "jsonflat.awk"):
        assert stat.S_ISREG(entries[f"{scripts}/{name}"][0])
    assert entries["etc/modules"][1].decode().split() == order
    assert {f"lib/modules/{name}.ko" for name in order} <= set(entries)
    assert stat.S_ISCHR(entries["dev/console"][0])
    assert entries["bin/sh"][1] == b"busybox"


def test_a_missing_driver_names_it(kernel_root, tmp_path):
    (kernel_root / "lib" / "modules" / RELEASE / "kernel" / "drivers" / "tg3.ko").unlink()
    result = subprocess.run([sys.executable, str(BUILD), "--output", str(tmp_path / "out"),
                             "--kernel-root", str(kernel_root)], capture_output=True, text=True)

    assert result.returncode == 1
    assert "kernel module tg3 is neither built in nor in" in result.stderr
