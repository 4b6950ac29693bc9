"""Network namespaces (``ip netns`` compatible, under /run/netns) and work done inside them.

A network namespace belongs to a thread, not a process: ``run_in`` runs a function in a short
thread that entered the namespace, so netlink sockets, listening sockets, /proc/sys/net writes
and child processes made there all live in that namespace, while the agent stays outside.
"""
import logging
import os
import subprocess
import threading

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

LOG = logging.getLogger(__name__)
NETNS_DIR = "/run/netns"


class NamespaceError(Exception):
    """A namespace could not be made, removed or entered; the message names it."""


def names() -> set[str]:
    try:
        return set(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return set()


def create(name: str) -> None:
    """Make the namespace (as `ip netns add` does) with its loopback up."""
    result = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if result.returncode != 0 and name not in names():
        raise NamespaceError(f"cannot create namespace {name}: {result.stderr.strip()}")
    run_in(name, _loopback_up)


def _loopback_up():
    with IPRoute() as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")


def delete(name: str) -> None:
    """Unmount and forget the namespace (as `ip netns delete`); the kernel then destroys it,
    and the veths in it, once nothing uses it."""
    try:
        pyroute2_netns.remove(name)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise NamespaceError(f"cannot delete namespace {name}: {exc}") from None


def path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def run_in(name: str, work, *args, **kwargs):
    """work(*args, **kwargs) in a thread inside namespace `name`; its result or exception."""
    outcome = {}

    def inside():
        try:
            pyroute2_netns.setns(path(name), flags=0)
        except OSError as exc:
            outcome["error"] = NamespaceError(f"cannot enter namespace {name}: {exc}")
            return
        try:
            outcome["result"] = work(*args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=inside, name=f"netns-{name[:20]}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def write_sysctl(key: str, value: str) -> None:
    """Set a net.* sysctl of the namespace the calling thread is in (call it via run_in)."""
    with open("/proc/sys/" + key.replace(".", "/"), "w") as stream:
        stream.write(value)
