"""`stackbox lab up --kind nspawn`: the overcloud's test hosts ("deployed servers"), each a
systemd-nspawn container (nspawn.py) booted from a copy of the overcloud node image, with a
static address on the lab's bridge, behind its own BMC (bmcs.py), and an Ansible inventory
(deployed-servers.yaml) with the lab's own SSH key pair to reach them as root.

The state is LAB_DIR/lab.json in lab.py's format, with "kind": "nspawn" and each node's
"address"; it is saved after every step, so `lab down` removes whatever a failed or
interrupted `lab up` made. `lab up` with more nodes adds the missing hosts and leaves the
running ones be.
"""
import ipaddress
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from pyroute2 import IPRoute

from undercloud.common.files import write_atomic
from undercloud.host import bridge
from undercloud.lab import bmcs, nspawn
from undercloud.lab.lab import (
    BMC_ADDRESS,
    BMC_USER,
    LabError,
    check_bmc_ports,
    check_kind,
    check_name,
    forget,
    load,
    save,
)

LOG = logging.getLogger(__name__)
KIND = "nspawn"
DEFAULT_NAME = "overcloud"
# Above the undercloud's default PXE (.5-.24), node (.30-.99) and inspection (.100-.120)
# ranges, so bare-metal nodes and lab hosts share br-ctlplane without clashing.
DEFAULT_FIRST_ADDRESS = "192.168.24.150"
DEFAULT_FIRST_BMC_PORT = 6230
PREFIX = 24
# The host side of a container's veth is vb-NAME, and interface names have 15 characters.
HOST_NAME_MAX = 12
IMAGE_DIR = os.path.join(os.path.expanduser("~/.cache/stackbox"), "overcloud-node")
IMAGE_BUILD = Path(__file__).resolve().parents[2] / "images" / "overcloud-node" / "build"
BOOT_TIMEOUT = 60.0
INVENTORY = "deployed-servers.yaml"
BRIDGE_RECORD = "bridge.json"
SSH_KEY = os.path.join("ssh", "id_ed25519")
KNOWN_HOSTS = os.path.join("ssh", "known_hosts")


# ---- what the lab is made of ---------------------------------------------------------------

def image(say=print) -> str:
    """The overcloud node image's root file system, built once (about a minute) when missing."""
    rootfs = os.path.join(IMAGE_DIR, "rootfs")
    if os.path.exists(rootfs + ".done"):
        return rootfs
    if not IMAGE_BUILD.exists():
        raise LabError(f"the overcloud node image is not built ({rootfs}.done is missing) and "
                       f"its build {IMAGE_BUILD} is not here: run it from a Stackbox checkout")
    say(f"Building the overcloud node image into {IMAGE_DIR} (once, about a minute) ...")
    result = subprocess.run([sys.executable, str(IMAGE_BUILD), "--output", IMAGE_DIR,
                             "--quiet"], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0 or not os.path.exists(rootfs + ".done"):
        raise LabError(f"building the overcloud node image failed ({IMAGE_BUILD} exited "
                       f"{result.returncode}): {result.stderr.strip()[-2000:]}")
    return rootfs


def ssh_key(lab_dir: str) -> str:
    """The lab's SSH key pair (made once, kept by `lab down`); returns the public key."""
    private = os.path.join(lab_dir, SSH_KEY)
    if not os.path.exists(private):
        os.makedirs(os.path.dirname(private), mode=0o700, exist_ok=True)
        result = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                 "stackbox-lab", "-f", private], capture_output=True, text=True)
        if result.returncode != 0:
            raise LabError(f"cannot make the lab's SSH key {private}: {result.stderr.strip()}")
    os.chmod(private, 0o600)
    with open(private + ".pub") as stream:
        return stream.read().strip()


def bridge_address(first_address: str) -> ipaddress.IPv4Interface:
    """The lab machine's own address on the hosts' network: its first address (192.168.24.1,
    the undercloud's baremetal.provisioning_address, where it serves its package
    repository)."""
    network = ipaddress.IPv4Interface(f"{first_address}/{PREFIX}").network
    return ipaddress.IPv4Interface(f"{next(network.hosts())}/{PREFIX}")


def host_address(state: dict, index: int) -> ipaddress.IPv4Interface:
    return ipaddress.IPv4Interface(
        f"{ipaddress.IPv4Address(state['first_address']) + index}/{PREFIX}")


def _check_plan(state: dict, count: int) -> None:
    """Names, addresses and BMC ports for ``count`` hosts fit, before anything is made."""
    if count < 1:
        raise LabError(f"--nodes {count} must be at least 1")
    last_name = f"{state['name']}-{count - 1}"
    if len(last_name) > HOST_NAME_MAX:
        raise LabError(f"host name {last_name} is longer than {HOST_NAME_MAX} characters (its "
                       f"veth is vb-{last_name}; interface names have 15): pick a shorter --name")
    try:
        first = ipaddress.IPv4Address(state["first_address"])
    except ValueError:
        raise LabError(f"--first-address {state['first_address']!r} must be an IPv4 "
                       "address, such as 192.168.24.150") from None
    own = bridge_address(state["first_address"])
    last = first + count - 1
    if first <= own.ip or last not in own.network or last == own.network.broadcast_address:
        raise LabError(f"--first-address {first} leaves no room for {count} hosts in "
                       f"{own.network} after the lab's own {own.ip}: the hosts go from "
                       f"{first} to {last}")
    check_bmc_ports(state["first_bmc_port"], count)


def _node(state: dict, index: int) -> dict:
    lab_dir, name = state["lab_dir"], f"{state['name']}-{index}"
    host_dir = os.path.join(lab_dir, "hosts", name)
    return {"name": name, "address": str(host_address(state, index).ip), "pid": None,
            "host_key": None, "created": False, "host_dir": host_dir,
            "rootfs": os.path.join(host_dir, "rootfs"),
            "console_log": os.path.join(lab_dir, "logs", f"{name}.log"),
            "bmc": {"address": BMC_ADDRESS, "port": state["first_bmc_port"] + index,
                    "username": BMC_USER, "password": secrets.token_urlsafe(12), "pid": None},
            "bmc_config": os.path.join(lab_dir, "bmc", f"{name}.json"),
            "bmc_log": os.path.join(lab_dir, "logs", f"{name}-bmc.log")}


def _check_free(nodes: list[dict]) -> None:
    with IPRoute() as ipr:
        for node in nodes:
            veth = f"vb-{node['name']}"
            if ipr.link_lookup(ifname=veth):
                raise LabError(f"network interface {veth} exists: another lab's host "
                               f"{node['name']} runs; pick another --name")
    for node in nodes:
        port = node["bmc"]["port"]
        if not bmcs.port_is_free(BMC_ADDRESS, port):
            raise LabError(f"UDP port {BMC_ADDRESS}:{port} for the BMC of {node['name']} is "
                           "taken: pick another --first-bmc-port")


# ---- files for the user --------------------------------------------------------------------

def inventory(state: dict) -> dict:
    """The hosts as an Ansible YAML inventory (all.hosts), reached as root with the lab's key,
    checking host keys against the lab's known_hosts."""
    lab_dir = state["lab_dir"]
    key = os.path.join(lab_dir, SSH_KEY)
    return {"all": {
        "vars": {"ansible_ssh_common_args":
                 f"-o UserKnownHostsFile={os.path.join(lab_dir, KNOWN_HOSTS)}"},
        "hosts": {node["name"]: {"ansible_host": node["address"], "ansible_user": "root",
                                 "ansible_ssh_private_key_file": key}
                  for node in state["nodes"]}}}


def known_hosts(state: dict) -> str:
    return "".join(f"{node['address']},{node['name']} {node['host_key']}\n"
                   for node in state["nodes"] if node.get("host_key"))


def _write_files(state: dict) -> None:
    lab_dir = state["lab_dir"]
    write_atomic(os.path.join(lab_dir, KNOWN_HOSTS), known_hosts(state))
    write_atomic(os.path.join(lab_dir, INVENTORY),
                 yaml.safe_dump(inventory(state), default_flow_style=False, sort_keys=False))


# ---- up ------------------------------------------------------------------------------------

def _settings(existing: dict | None, given: dict, default_bridge: str) -> dict:
    """The lab's name, bridge, first address and first BMC port: an existing lab keeps its
    own (a different one given is refused), a new one takes the given or the defaults."""
    defaults = {"name": DEFAULT_NAME, "bridge": default_bridge,
                "first_address": DEFAULT_FIRST_ADDRESS, "first_bmc_port": DEFAULT_FIRST_BMC_PORT}
    if existing is None:
        return {key: given.get(key) or value for key, value in defaults.items()}
    for key in defaults:
        if given.get(key) is not None and str(given[key]) != str(existing[key]):
            flag = "--" + key.replace("_", "-")
            raise LabError(f"the lab in {existing['lab_dir']} has {flag} {existing[key]}, not "
                           f"{given[key]}: `stackbox lab down` first to change it")
    return {key: existing[key] for key in defaults}


def up(lab_dir: str, count: int, name: str | None = None, bridge_name: str | None = None,
       first_address: str | None = None, first_bmc_port: int | None = None,
       default_bridge: str = "br-ctlplane", say=print) -> dict:
    """Make the lab, or add the missing hosts to it and start its stopped hosts and BMCs;
    returns its state. None: the existing lab's value, or the default for a new lab."""
    lab_dir = os.path.abspath(lab_dir)
    existing = load(lab_dir)
    check_kind(existing, KIND)
    settings = _settings(existing, {"name": name, "bridge": bridge_name,
                                    "first_address": first_address,
                                    "first_bmc_port": first_bmc_port}, default_bridge)
    if existing is not None and count < len(existing["nodes"]):
        raise LabError(f"the lab in {lab_dir} has {len(existing['nodes'])} hosts, not "
                       f"{count}: `stackbox lab down` first to have fewer")
    check_name(settings["name"])
    state = existing or {"kind": KIND, "lab_dir": lab_dir, **settings, "bridge_made": False,
                         "bridge_address": str(bridge_address(settings["first_address"])),
                         "nodes": []}
    _check_plan(state, count)
    added = [_node(state, index) for index in range(len(state["nodes"]), count)]
    _check_free(added)
    os.makedirs(lab_dir, mode=0o755, exist_ok=True)
    state["nodes"].extend(added)
    save(state)
    try:
        _make(state, say)
    except (LabError, nspawn.NspawnError, bmcs.BmcError, bridge.BridgeError, OSError) as exc:
        if existing is None:
            LOG.error("lab up failed, removing what it made: %s", exc)
            _remove(state)
            raise LabError(f"{exc} (the lab is removed; the logs stay in {lab_dir}/logs)") \
                from None
        raise LabError(f"{exc} (`stackbox lab up` again to finish, or `stackbox lab down`)") \
            from None
    return state


def _make(state: dict, say) -> None:
    """The bridge, then each host without a root file system (new, or half-made by an
    interrupted `lab up`), then every BMC and host that does not run, then their sshd."""
    lab_dir = state["lab_dir"]
    bridge.ensure(state["bridge"], [ipaddress.IPv4Interface(state["bridge_address"])],
                  os.path.join(lab_dir, BRIDGE_RECORD))
    state["bridge_made"] = _bridge_record_made(lab_dir)
    save(state)
    public_key = ssh_key(lab_dir)
    unprepared = [node for node in state["nodes"] if not os.path.isdir(node["rootfs"])]
    source = image(say) if unprepared else None
    for node in unprepared:
        node["created"] = True   # before the copy, so `down` removes a half-made host
        save(state)
        address = ipaddress.IPv4Interface(f"{node['address']}/{PREFIX}")
        node["host_key"] = nspawn.prepare(source, node["rootfs"], node["name"], address,
                                          public_key)
        save(state)
    _write_files(state)
    started = []
    for node in state["nodes"]:
        if not bmcs.running(node["bmc"]["pid"], node["bmc_config"]):
            _start_bmc(state, node)
        if not nspawn.find(node["rootfs"], node["pid"]):
            node["pid"] = nspawn.start(node["name"], node["rootfs"], state["bridge"],
                                       node["console_log"])
            save(state)
            started.append(node)
    known = os.path.join(lab_dir, KNOWN_HOSTS)
    for node in started:
        nspawn.wait_ssh(node["name"], node["address"], os.path.join(lab_dir, SSH_KEY), known,
                        node["rootfs"], node["console_log"], BOOT_TIMEOUT)


def _bridge_record_made(lab_dir: str) -> bool:
    with open(os.path.join(lab_dir, BRIDGE_RECORD)) as stream:
        return bool(json.load(stream).get("made"))


def _start_bmc(state: dict, node: dict) -> None:
    bmc = node["bmc"]
    bmc["pid"] = bmcs.start(node["name"], {"type": "nspawn", "name": node["name"],
                                           "rootfs": node["rootfs"], "bridge": state["bridge"],
                                           "log_file": node["console_log"]},
                            bmc["address"], bmc["port"], bmc["username"], bmc["password"],
                            node["bmc_config"], node["bmc_log"])
    save(state)


# ---- down and status -----------------------------------------------------------------------

def _remove(state: dict) -> list[str]:
    """Remove everything the lab made but its SSH key and logs; returns the problems it
    could not fix. BMCs go first, so none starts a host again."""
    problems = []
    for node in state["nodes"]:
        try:
            bmcs.stop(node["bmc"].get("pid"), node["bmc_config"])
        except bmcs.BmcError as exc:
            problems.append(str(exc))
    try:
        nspawn.stop([node["rootfs"] for node in state["nodes"]])
    except nspawn.NspawnError as exc:
        problems.append(str(exc))
    for node in state["nodes"]:
        try:
            if node.get("created"):
                nspawn.remove_rootfs(node["rootfs"])
                shutil.rmtree(node["host_dir"], ignore_errors=True)
            if os.path.exists(node["bmc_config"]):
                os.unlink(node["bmc_config"])
        except (nspawn.NspawnError, OSError) as exc:
            problems.append(str(exc))
    try:
        bridge.remove(os.path.join(state["lab_dir"], BRIDGE_RECORD))
    except (bridge.BridgeError, OSError) as exc:
        problems.append(str(exc))
    return forget(state, (INVENTORY, KNOWN_HOSTS), ("bmc", "hosts"), problems)


def down(state: dict) -> dict:
    """Stop and remove the lab's hosts, BMCs, files and the bridge (or address) it made."""
    problems = _remove(state)
    if problems:
        raise LabError("the lab is partly removed; run `stackbox lab down` again: "
                       + "; ".join(problems))
    return state


def status(state: dict) -> list[dict]:
    """Each host's power (its container runs), whether root can ssh in, and its BMC."""
    key = os.path.join(state["lab_dir"], SSH_KEY)
    known = os.path.join(state["lab_dir"], KNOWN_HOSTS)
    rows = []
    for node in state["nodes"]:
        bmc = node["bmc"]
        running = bool(nspawn.find(node["rootfs"], node["pid"]))
        rows.append({"name": node["name"], "address": node["address"],
                     "power": "running" if running else "stopped",
                     "ssh": running and nspawn.ssh_answers(node["address"], key, known),
                     "bmc": f"{bmc['address']}:{bmc['port']}",
                     "bmc_running": bmcs.running(bmc["pid"], node["bmc_config"]),
                     "bmc_answers": bmcs.answers(bmc["address"], bmc["port"])})
    return rows
