"""STATE_DIR/overcloud/known_hosts: the SSH host keys of the provisioned nodes.

A node makes its host keys at its first boot, so nothing can know them before; the deployer
waits until sshd answers on the provisioning network and records the keys of each node it
deployed in this run (trust on first use, on the network only the undercloud and its nodes
share). A kept node keeps its recorded keys, so a changed key stops Ansible as it should.
"""
import os
import subprocess
import time

from undercloud.common.files import write_atomic
from undercloud.deploy.progress import duration_text

KNOWN_HOSTS = os.path.join("overcloud", "known_hosts")
POLL_SECONDS = 3.0
SCAN_SECONDS = 5


class HostKeyError(Exception):
    """A node's sshd did not answer; the message names the node."""


def known_hosts_path(state_dir: str) -> str:
    return os.path.join(state_dir, KNOWN_HOSTS)


def scan(address: str) -> list[str]:
    """The host's key lines as ssh-keyscan prints them, [] while its sshd does not answer."""
    try:
        result = subprocess.run(["ssh-keyscan", "-T", str(SCAN_SECONDS), "-t",
                                 "ed25519,ecdsa,rsa", address], capture_output=True, text=True,
                                timeout=SCAN_SECONDS * 4, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in result.stdout.splitlines()
            if line.strip() and not line.startswith("#")]


def _recorded(path: str) -> list[str]:
    try:
        with open(path) as stream:
            return [line.rstrip("\n") for line in stream if line.strip()]
    except FileNotFoundError:
        return []


def learn(path: str, hosts: dict[str, str], fresh: set[str], say, timeout: float,
          sleep=time.sleep, clock=time.monotonic) -> str:
    """Record the keys of `hosts` (name -> address): every fresh one, and any other with no
    line yet. Waits up to `timeout` for their sshd; returns `path`."""
    lines = _recorded(path)
    known = {line.split()[0] for line in lines}
    wanted = {name: address for name, address in hosts.items()
              if name in fresh or address not in known}
    started = clock()
    while wanted:
        for name, address in sorted(wanted.items()):
            found = scan(address)
            if found:
                lines = [line for line in lines if line.split()[0] != address] + found
                say(f"  node {name}: sshd answers at {address}, host key recorded")
                del wanted[name]
        if not wanted:
            break
        if clock() - started > timeout:
            raise HostKeyError(f"sshd did not answer within {duration_text(timeout)} on "
                               + ", ".join(f"{name} ({address})"
                                           for name, address in sorted(wanted.items()))
                               + ": look at the node's console (the node image prints "
                                 "`stackbox-node:` lines)")
        sleep(POLL_SECONDS)
    write_atomic(path, "".join(f"{line}\n" for line in lines))
    return path
