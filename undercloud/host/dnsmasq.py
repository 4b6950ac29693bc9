"""A dnsmasq's files and process, for each service that runs one (network's DHCP per
network, bare metal's provisioning network): where its files live, and which dnsmasq runs."""
import os
import stat

from undercloud.common.files import read_if_exists


def user_for(folder: str) -> str | None:
    """None (dnsmasq drops to its own user) when that user can re-read our files on SIGHUP;
    "root" when some folder above them is closed to others."""
    path = os.path.abspath(folder)
    while True:
        if os.path.exists(path) and not os.stat(path).st_mode & stat.S_IXOTH:
            return "root"
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


class Paths:
    def __init__(self, folder: str):
        self.folder = folder
        self.pid = os.path.join(folder, "pid")
        self.hosts = os.path.join(folder, "host")
        self.opts = os.path.join(folder, "opts")
        self.leases = os.path.join(folder, "leases")
        self.log = os.path.join(folder, "dnsmasq.log")


def running_argv(folder: str) -> tuple[int, list[str]] | None:
    """(pid, command line) of the dnsmasq whose pid file is in `folder`, if it runs."""
    paths = Paths(folder)
    text = read_if_exists(paths.pid)
    if not text or not text.strip().isdigit():
        return None
    pid = int(text.strip())
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            command = [part.decode() for part in stream.read().split(b"\0") if part]
    except OSError:
        return None
    if f"--pid-file={paths.pid}" not in command:
        return None  # the pid was reused by another process
    return pid, command
