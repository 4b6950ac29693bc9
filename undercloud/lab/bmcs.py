"""Starting, probing and stopping the lab's BMC processes (bmc.py), one per machine.

Each BMC gets a private JSON config (it holds the password) and logs to the lab's logs
folder. A BMC is found again by its pid and command line, so a recycled pid is never
signalled."""
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

from undercloud.common.files import write_secret

LOG = logging.getLogger(__name__)
START_TIMEOUT = 15.0

# IPMI 1.5 "Get Channel Authentication Capabilities" (channel 0xE: this one, admin level):
# sessionless, so a BMC answers it before any login; a cheap "are you there?".
_AUTH_CAPABILITIES = bytes([
    0x06, 0x00, 0xFF, 0x07,                 # RMCP: version, reserved, seq, class IPMI
    0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09,     # session: auth none, seq 0, id 0, length 9
    0x20, 0x18, 0xC8,                       # to the BMC, netfn application, checksum
    0x81, 0x00, 0x38, 0x8E, 0x04,           # from us, seq 0, the command, channel, level
    0xB5])                                  # checksum


class BmcError(Exception):
    """A BMC cannot be started or stopped; the message names it."""


def port_is_free(address: str, port: int) -> bool:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind((address, port))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def answers(address: str, port: int, timeout: float = 1.0) -> bool:
    """True when an IPMI BMC answers on address:port."""
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        client.settimeout(timeout)
        client.sendto(_AUTH_CAPABILITIES, (address, port))
        reply, _ = client.recvfrom(512)
        return reply[:4] == _AUTH_CAPABILITIES[:4]
    except OSError:
        return False
    finally:
        client.close()


def _command(config_path: str) -> list[str]:
    return [sys.executable, "-m", "undercloud.lab.bmc", "--config", config_path]


def start(name: str, machine: dict, address: str, port: int, username: str, password: str,
          config_path: str, log_file: str) -> int:
    """Start a BMC process for ``machine`` and wait until it answers; returns its pid."""
    write_secret(config_path, json.dumps({
        "name": name, "address": address, "port": port, "username": username,
        "password": password, "machine": machine, "log_file": log_file}, indent=2))
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    with open(log_file, "ab") as log:
        # Its own session: a test runner's or a shell's process-group signal leaves it be.
        process = subprocess.Popen(_command(config_path), stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, start_new_session=True,
                                   cwd="/")
    deadline = time.monotonic() + START_TIMEOUT
    while not answers(address, port, timeout=0.5):
        if process.poll() is not None:
            raise BmcError(f"the BMC of {name} exited ({process.returncode}) before it "
                           f"answered on {address}:{port}; see {log_file}")
        if time.monotonic() > deadline:
            stop(process.pid, config_path)
            raise BmcError(f"the BMC of {name} did not answer on {address}:{port} within "
                           f"{START_TIMEOUT:.0f} s; see {log_file}")
        time.sleep(0.1)
    LOG.info("BMC of %s up on %s:%s (pid %s)", name, address, port, process.pid)
    return process.pid


def running(pid: int | None, config_path: str) -> bool:
    """True when ``pid`` is the BMC started with ``config_path``."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as source:
            arguments = source.read().split(b"\0")
    except OSError:
        return False
    return b"undercloud.lab.bmc" in arguments and config_path.encode() in arguments


def stop(pid: int | None, config_path: str, timeout: float = 5.0) -> None:
    """Stop the BMC (TERM, then KILL) and wait for its port; one already gone is fine."""
    if not running(pid, config_path):
        return
    with open(config_path) as source:
        settings = json.load(source)
    if not (_signal_until_gone(pid, config_path, signal.SIGTERM, timeout)
            or _signal_until_gone(pid, config_path, signal.SIGKILL, timeout)):
        raise BmcError(f"the BMC process {pid} ({config_path}) does not stop")
    # The kernel frees a dead process's socket a moment after the process is gone.
    deadline = time.monotonic() + timeout
    while not port_is_free(settings["address"], settings["port"]):
        if time.monotonic() > deadline:
            raise BmcError(f"port {settings['port']} is still taken after BMC {pid} stopped")
        time.sleep(0.01)


def _signal_until_gone(pid: int, config_path: str, sig: int, timeout: float) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not running(pid, config_path):
            return True
        time.sleep(0.05)
    return False


def _reap(pid: int) -> None:
    """Collect our own child's exit status, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
