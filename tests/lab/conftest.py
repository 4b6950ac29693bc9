"""Lab fixtures: real qemu guests through libvirt (TCG where KVM cannot run guests), booted
from the tiny guest that images/tiny-guest/build makes. Root only; skipped elsewhere."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "images" / "tiny-guest" / "build"
TOOLS = ["qemu-system-x86_64", "qemu-img", "libvirtd", "virtlogd", "xorriso", "busybox",
         "syslinux", "mcopy", "mkfs.fat", "sfdisk", "apt-get", "dpkg-deb"]


def _cannot_run():
    if os.geteuid() != 0:
        return "lab tests run qemu:///system and need root"
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    missing = [tool for tool in TOOLS if shutil.which(tool, path=path) is None]
    # Missing tools fail rather than skip: scripts/install provides them, so a gap is a bug.
    assert not missing, f"missing {', '.join(missing)}: scripts/install should have installed them"
    assert importlib.util.find_spec("libvirt"), "libvirt-python is missing from the venv"
    return None


@pytest.fixture(scope="session")
def tiny_guest(tmp_path_factory):
    """The built guest: a folder with tiny-guest.qcow2, vmlinuz, initrd.img, manifest.json."""
    reason = _cannot_run()
    if reason:
        pytest.skip(reason)
    output = tmp_path_factory.mktemp("tiny-guest")
    started = time.monotonic()
    # The kernel package is cached under ~/.cache/stackbox, so builds after the first take seconds.
    result = subprocess.run([sys.executable, str(BUILD), "--output", str(output), "--quiet"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((output / "manifest.json").read_text())
    manifest["build_seconds"] = round(time.monotonic() - started, 1)
    manifest["folder"] = output
    return manifest


@pytest.fixture
def lab_dir():
    """A data folder qemu (user libvirt-qemu) can reach: pytest's own tmp is root-only."""
    folder = tempfile.mkdtemp(prefix="stackbox-lab-", dir="/var/tmp")
    os.chmod(folder, 0o755)
    yield folder
    if not os.environ.get("STACKBOX_KEEP_LAB"):  # keep it to read the logs of a failed run
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def driver():
    from undercloud.compute.drivers.libvirt import LibvirtDriver
    driver = LibvirtDriver("qemu:///system")
    yield driver
    driver.close()


@pytest.fixture
def wait_for_console():
    """wait(driver, uuid, text, count=1, timeout): the console once `text` appears `count` times."""
    def wait(driver, uuid, text, count=1, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            console = driver.console_output(uuid)
            if console.count(text) >= count:
                return console
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} x{count} not on the console of {uuid} within {timeout} s;"
                            f" console tail:\n{console[-3000:]}")
            time.sleep(0.2)
    return wait


@pytest.fixture
def tiny_guest_stream(tiny_guest):
    """The tiny guest's bytes as the image API would stream them to the image cache."""
    def stream():
        with open(tiny_guest["folder"] / "tiny-guest.qcow2", "rb") as source:
            while chunk := source.read(1024 * 1024):
                yield chunk
    return stream
