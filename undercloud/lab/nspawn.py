"""One lab host as a systemd-nspawn container: its root file system (a copy of the overcloud
node image with the host's name, address and keys), and starting, finding, stopping it and
waiting for its sshd.

A container is found by its command line (systemd-nspawn ... -D ROOTFS), so the lab and the
host's BMC, which both start and stop it, always agree on whether it runs. It is started
through `setsid --fork`, so its parent is init, which reaps it whoever started it.
"""
import ipaddress
import logging
import os
import shutil
import signal
import socket
import subprocess
import time

from undercloud.common.process import is_alive

LOG = logging.getLogger(__name__)
NSPAWN = "systemd-nspawn"
# The container's network (the host side's veth is vb-NAME) and what a compute host needs:
# every capability (netns, bridges, vxlan, iptables) and /dev/net/tun for qemu's taps.
START_FLAGS = ["--boot", "--keep-unit", "--register=no", "--capability=all",
               "--bind=/dev/net/tun"]
NETWORK_FILE = "etc/systemd/network/10-host0.network"
HOST_KEY = "etc/ssh/ssh_host_ed25519_key"
DBUS_MACHINE_ID = "var/lib/dbus/machine-id"
# The lab makes the host key, so only that one is served (and known_hosts can list it).
SSHD_DROP_IN = "etc/ssh/sshd_config.d/10-lab-host-key.conf"
START_TIMEOUT = 5.0
STOP_TIMEOUT = 20.0
KILL_TIMEOUT = 10.0


class NspawnError(Exception):
    """A container cannot be prepared, started or stopped; the message names it."""


# ---- the root file system ------------------------------------------------------------------

def _write(rootfs: str, path: str, text: str, mode: int = 0o644) -> None:
    target = os.path.join(rootfs, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as stream:
        stream.write(text)
    os.chmod(target, mode)


def network_file(address: ipaddress.IPv4Interface) -> str:
    """systemd-networkd's config for the container's end of its veth: a static address, no
    gateway (the lab's network leads nowhere else), no router advertisements."""
    return ("[Match]\nName=host0\n\n[Network]\n"
            f"Address={address}\nIPv6AcceptRA=no\nLinkLocalAddressing=ipv6\n")


def hosts_file(name: str, address: ipaddress.IPv4Interface) -> str:
    return (f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            f"{address.ip}\t{name}\n")


def prepare(image: str, rootfs: str, name: str, address: ipaddress.IPv4Interface,
            authorized_key: str) -> str:
    """Copy the image's root file system to ``rootfs`` and make it host ``name``: hostname,
    /etc/hosts, its address, root's authorized key and its own SSH host key. Returns the
    host key's public line ("ssh-ed25519 AAAA..."). The copy is made beside ``rootfs`` and
    renamed when finished, so ``rootfs`` is either complete or absent."""
    partial = rootfs + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(os.path.dirname(rootfs), exist_ok=True)
    copy = subprocess.run(["cp", "-a", "--reflink=auto", image, partial],
                          capture_output=True, text=True)
    if copy.returncode != 0:
        raise NspawnError(f"cannot copy the node image {image} for {name}: "
                          f"{copy.stderr.strip()}")
    _write(partial, "etc/hostname", f"{name}\n")
    _write(partial, "etc/hosts", hosts_file(name, address))
    _write(partial, NETWORK_FILE, network_file(address))
    _write(partial, "etc/machine-id", "")   # empty: systemd makes the host's own at boot
    # systemd would take a D-Bus machine ID found in the image as every host's machine ID.
    dbus_id = os.path.join(partial, DBUS_MACHINE_ID)
    if os.path.lexists(dbus_id):
        os.unlink(dbus_id)
        os.symlink("/etc/machine-id", dbus_id)
    os.makedirs(os.path.join(partial, "root/.ssh"), mode=0o700, exist_ok=True)
    os.chmod(os.path.join(partial, "root/.ssh"), 0o700)
    _write(partial, "root/.ssh/authorized_keys", authorized_key.strip() + "\n", 0o600)
    host_key = os.path.join(partial, HOST_KEY)
    for leftover in (host_key, host_key + ".pub"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    keygen = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                             f"root@{name}", "-f", host_key], capture_output=True, text=True)
    if keygen.returncode != 0:
        raise NspawnError(f"cannot make the SSH host key of {name}: {keygen.stderr.strip()}")
    _write(partial, SSHD_DROP_IN, f"HostKey /{HOST_KEY}\n")
    with open(host_key + ".pub") as stream:
        public = " ".join(stream.read().split()[:2])
    os.rename(partial, rootfs)
    return public


def remove_rootfs(rootfs: str) -> None:
    """Delete a stopped container's root file system (and a half-made copy)."""
    if find(rootfs):
        raise NspawnError(f"the container on {rootfs} still runs: stop it first")
    for path in (rootfs, rootfs + ".partial"):
        if os.path.lexists(path):
            shutil.rmtree(path)


# ---- the container's processes -------------------------------------------------------------

def _arguments(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as source:
            return source.read().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _is_container(pid: int, rootfs: str) -> bool:
    arguments = _arguments(pid)
    if not arguments or os.path.basename(arguments[0]) != NSPAWN:
        return False
    return any(first == "-D" and second == rootfs
               for first, second in zip(arguments, arguments[1:]))


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def find(rootfs: str, hint: int | None = None) -> int | None:
    """The pid of the systemd-nspawn running the container on ``rootfs``, or None.
    ``hint``, a pid it had before, is checked first."""
    if hint and is_alive(hint) and _is_container(hint, rootfs):
        return hint
    for pid in _pids():
        if _is_container(pid, rootfs) and is_alive(pid):
            return pid
    return None


def _init_pid(nspawn_pid: int) -> int | None:
    """The container's init: systemd-nspawn's child (PID 1 of the container's pid namespace)."""
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == nspawn_pid:
            return pid
    return None


def start(name: str, rootfs: str, bridge: str, log_file: str) -> int:
    """Boot the container (its console goes to ``log_file``); returns systemd-nspawn's pid.
    One already running is left as it is."""
    running = find(rootfs)
    if running:
        return running
    if not os.path.isdir(rootfs):
        raise NspawnError(f"host {name} has no root file system at {rootfs}")
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    argv = ["setsid", "--fork", NSPAWN, *START_FLAGS, "-D", rootfs, "-M", name,
            f"--network-bridge={bridge}"]
    with open(log_file, "ab") as log:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                cwd="/", timeout=START_TIMEOUT)
    if result.returncode != 0:
        raise NspawnError(f"cannot start host {name}: setsid exited {result.returncode}; "
                          f"see {log_file}")
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        pid = find(rootfs)
        if pid:
            LOG.info("host %s started (systemd-nspawn pid %s)", name, pid)
            return pid
        if time.monotonic() > deadline:
            raise NspawnError(f"host {name} did not start on {rootfs} within "
                              f"{START_TIMEOUT:.0f} s; see {log_file}")
        time.sleep(0.05)


def _wait_gone(rootfs: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while find(rootfs):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _signal(pid: int | None, sig: int) -> None:
    if pid:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def shutdown(rootfs: str) -> None:
    """Press the power button: systemd-nspawn passes SIGTERM on to the container's systemd as
    an orderly shutdown. Does not wait."""
    _signal(find(rootfs), signal.SIGTERM)


def kill(rootfs: str, timeout: float = KILL_TIMEOUT) -> None:
    """Pull the plug: kill the container's init (the kernel kills the rest of its pid
    namespace, and systemd-nspawn exits and takes its veth along), and wait until it is
    gone; systemd-nspawn itself is killed if it lingers."""
    pid = find(rootfs)
    if not pid:
        return
    _signal(_init_pid(pid), signal.SIGKILL)
    if _wait_gone(rootfs, timeout):
        return
    _signal(find(rootfs), signal.SIGKILL)
    if not _wait_gone(rootfs, timeout):
        raise NspawnError(f"the container on {rootfs} (systemd-nspawn pid {pid}) does not "
                          "stop, even killed")


def stop(rootfs_paths: list[str], timeout: float = STOP_TIMEOUT) -> None:
    """Shut these containers down cleanly, together; kill those still running after
    ``timeout``."""
    for rootfs in rootfs_paths:
        shutdown(rootfs)
    deadline = time.monotonic() + timeout
    for rootfs in rootfs_paths:
        if not _wait_gone(rootfs, max(0.0, deadline - time.monotonic())):
            LOG.warning("the container on %s did not shut down within %.0f s: killing it",
                        rootfs, timeout)
            kill(rootfs)


# ---- reaching the host ---------------------------------------------------------------------

def port_answers(address: str, port: int = 22, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def ssh_command(address: str, private_key: str, known_hosts: str, *command: str) -> list[str]:
    """ssh as root with the lab's key, checking the host key against the lab's known_hosts."""
    return ["ssh", "-i", private_key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=3",
            "-o", "LogLevel=ERROR", f"root@{address}", *command]


def ssh_answers(address: str, private_key: str, known_hosts: str) -> bool:
    """True when sshd on ``address`` lets root in with the lab's key."""
    if not port_answers(address):
        return False
    try:
        return subprocess.run(ssh_command(address, private_key, known_hosts, "true"),
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def wait_ssh(name: str, address: str, private_key: str, known_hosts: str, rootfs: str,
             log_file: str, timeout: float = 60.0) -> None:
    """Wait until root can ssh into the host, or fail naming it when it stopped or the
    timeout passed."""
    deadline = time.monotonic() + timeout
    while not ssh_answers(address, private_key, known_hosts):
        if not find(rootfs):
            raise NspawnError(f"host {name} stopped before its sshd answered on {address}; "
                              f"see {log_file}")
        if time.monotonic() > deadline:
            raise NspawnError(f"host {name}'s sshd did not let root in on {address} within "
                              f"{timeout:.0f} s; see {log_file}")
        time.sleep(0.2)
