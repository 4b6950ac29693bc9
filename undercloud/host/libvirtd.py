"""Make sure virtlogd and libvirtd run, for hosts (and test machines) without systemd.

With systemd as PID 1 the daemons are socket-activated and this only confirms the sockets
answer. Without it, we start them ourselves (`virtlogd -d`, `libvirtd -d`); each daemon's
own pidfile lock makes a second start a harmless no-op, so calling this is idempotent and
safe from several processes at once. Without udev, we also give /dev/kvm to group kvm.
"""
import grp
import logging
import os
import shutil
import socket
import stat
import subprocess
import time

LOG = logging.getLogger(__name__)
LIBVIRT_SOCKET = "/run/libvirt/libvirt-sock"
VIRTLOGD_SOCKET = "/run/libvirt/virtlogd-sock"
KVM_DEVICE = "/dev/kvm"


class DaemonError(Exception):
    """libvirtd or virtlogd cannot be reached or started; the message says what to do."""


def _answers(path: str) -> bool:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(1)
        connection.connect(path)
        return True
    except OSError:
        return False
    finally:
        connection.close()


def _start(program: str, socket_path: str, timeout: float):
    if _answers(socket_path):
        return
    binary = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if binary is None:
        raise DaemonError(f"{program} is not installed: install the Debian package "
                          "libvirt-daemon-system (scripts/install does)")
    if os.geteuid() != 0:
        raise DaemonError(f"{program} is not running and only root may start it "
                          f"(no answer on {socket_path})")
    # The daemons log to /var/log/libvirt and refuse to start without it.
    os.makedirs("/var/log/libvirt", exist_ok=True)
    LOG.info("starting %s", program)
    # Its own session, so a caller's process-group signal (a test runner's) leaves it be.
    try:
        result = subprocess.run([binary, "-d"], stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise DaemonError(f"{program} -d did not return within {timeout:.0f} s") from None
    if result.returncode != 0 and not _answers(socket_path):
        raise DaemonError(f"{program} -d failed ({result.returncode}): "
                          f"{(result.stderr or result.stdout).strip()}")
    deadline = time.monotonic() + timeout
    while not _answers(socket_path):
        if time.monotonic() > deadline:
            raise DaemonError(f"{program} started but {socket_path} did not answer within "
                              f"{timeout:.0f} s; see /var/log/libvirt/{program}.log")
        time.sleep(0.1)


def _give_kvm_to_its_group():
    """Without udev, /dev/kvm stays root-only; give it udev's usual root:kvm 0660.

    Otherwise libvirt's qemu user cannot open it while libvirt's capability probe (run
    with root's rights) can, and libvirt re-probes qemu, seconds each, on every call.
    """
    try:
        kvm_group = grp.getgrnam("kvm").gr_gid
        device = os.stat(KVM_DEVICE)
    except (KeyError, OSError):
        return
    if device.st_gid != kvm_group or stat.S_IMODE(device.st_mode) & 0o060 != 0o060:
        LOG.info("giving %s to group kvm (mode 0660), as udev would", KVM_DEVICE)
        os.chown(KVM_DEVICE, -1, kvm_group)
        os.chmod(KVM_DEVICE, stat.S_IMODE(device.st_mode) | 0o660)


def ensure_running(timeout: float = 30):
    """Start virtlogd (serial console logs) then libvirtd unless they already answer."""
    if os.geteuid() == 0:
        _give_kvm_to_its_group()
    _start("virtlogd", VIRTLOGD_SOCKET, timeout)
    _start("libvirtd", LIBVIRT_SOCKET, timeout)
