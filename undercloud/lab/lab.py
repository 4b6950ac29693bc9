"""`stackbox lab up/down/status`: N libvirt VMs, each behind its own BMC on 127.0.0.1, on
the provisioning bridge, described in nodes.yaml and instackenv.json (the "vm" kind; the
"nspawn" kind, containers for deployed servers, is hosts.py).

The lab's state is LAB_DIR/lab.json (private: it holds the BMC passwords), saved after every
step, so `lab down` removes whatever a failed or interrupted `lab up` made, and `lab up` on
an existing lab restarts the BMCs that are not running. Its "kind" says which lab it is; one
LAB_DIR holds one lab. No undercloud is needed.
"""
import json
import logging
import os
import re
import secrets

import libvirt

from undercloud.client import nodes_file
from undercloud.common.files import write_secret
from undercloud.host import libvirtd
from undercloud.lab import bmcs, bridge, vms

LOG = logging.getLogger(__name__)
URI = "qemu:///system"
BMC_ADDRESS = "127.0.0.1"
BMC_USER = "admin"
STATE_FILE = "lab.json"
NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
KIND = "vm"
KINDS = {"vm": "libvirt VMs for bare metal", "nspawn": "nspawn containers for deployed servers"}


class LabError(Exception):
    """The lab cannot be made, found or removed; the message says what to do."""


def _state_path(lab_dir: str) -> str:
    return os.path.join(lab_dir, STATE_FILE)


def load(lab_dir: str) -> dict | None:
    try:
        with open(_state_path(lab_dir)) as source:
            return json.load(source)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabError(f"cannot read the lab state {_state_path(lab_dir)}: {exc}") from None


def save(state: dict) -> None:
    write_secret(_state_path(state["lab_dir"]), json.dumps(state, indent=2))


def kind_of(state: dict) -> str:
    return state.get("kind", KIND)   # labs made before kinds were VM labs


def check_kind(state: dict | None, kind: str) -> None:
    """Refuse to make a lab of one kind in the folder of a lab of another."""
    if state is not None and kind_of(state) != kind:
        raise LabError(f"the lab in {state['lab_dir']} is of --kind {kind_of(state)} "
                       f"({KINDS[kind_of(state)]}), not --kind {kind}: `stackbox lab down "
                       f"--lab-dir {state['lab_dir']}` first, or give another --lab-dir")


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise LabError(f"lab name {name!r} must be lower-case letters, digits and dashes, "
                       "starting with a letter")


def check_bmc_ports(first_port: int, count: int) -> None:
    if first_port < 1 or first_port + count - 1 > 65535:
        raise LabError(f"--first-bmc-port {first_port} leaves no room for {count} BMCs")


def _connect() -> libvirt.virConnect:
    try:
        libvirtd.ensure_running()
        return libvirt.open(URI)
    except (libvirtd.DaemonError, libvirt.libvirtError) as exc:
        raise LabError(f"cannot reach libvirt at {URI}: {exc}") from None


def _mac() -> str:
    return "52:54:00:" + ":".join(f"{byte:02x}" for byte in secrets.token_bytes(3))


def _paths(lab_dir: str, name: str) -> dict:
    return {"disk_path": os.path.join(lab_dir, "disks", f"{name}.qcow2"),
            "console_log": os.path.join(lab_dir, "logs", f"{name}-console.log"),
            "bmc_config": os.path.join(lab_dir, "bmc", f"{name}.json"),
            "bmc_log": os.path.join(lab_dir, "logs", f"{name}-bmc.log")}


def _plan(lab_dir, name, count, first_port, bridge_name, memory_mb, cpus, disk_gb):
    nodes = []
    for index in range(count):
        node_name = f"{name}-{index}"
        nodes.append({"name": node_name, "mac": _mac(), "memory_mb": memory_mb, "cpus": cpus,
                      "disk_gb": disk_gb, "bridge": bridge_name,
                      "bmc": {"address": BMC_ADDRESS, "port": first_port + index,
                              "username": BMC_USER, "password": secrets.token_urlsafe(12),
                              "pid": None},
                      "created": False, **_paths(lab_dir, node_name)})
    return nodes


def _check_free(connection, nodes) -> None:
    for node in nodes:
        if vms.exists(connection, node["name"]):
            raise LabError(f"a libvirt domain named {node['name']} already exists: pick "
                           "another --name, or remove it (virsh undefine)")
        port = node["bmc"]["port"]
        if not bmcs.port_is_free(BMC_ADDRESS, port):
            raise LabError(f"UDP port {BMC_ADDRESS}:{port} for the BMC of {node['name']} is "
                           "taken: pick another --first-bmc-port")


def _start_bmc(state: dict, node: dict) -> None:
    bmc = node["bmc"]
    bmc["pid"] = bmcs.start(node["name"], {"type": "libvirt", "uri": URI,
                                           "domain": node["name"]},
                            bmc["address"], bmc["port"], bmc["username"], bmc["password"],
                            node["bmc_config"], node["bmc_log"])
    save(state)


def nodes_document(state: dict) -> list[dict]:
    """The lab's nodes in TripleO's instackenv fields."""
    return [{"name": node["name"], "pm_type": "ipmi", "pm_addr": node["bmc"]["address"],
             "pm_port": node["bmc"]["port"], "pm_user": node["bmc"]["username"],
             "pm_password": node["bmc"]["password"], "mac": [node["mac"]],
             "cpu": node["cpus"], "memory": node["memory_mb"], "disk": node["disk_gb"],
             "arch": vms.ARCH} for node in state["nodes"]]


def _write_nodes_files(state: dict) -> None:
    document = nodes_document(state)
    nodes_file.write(os.path.join(state["lab_dir"], "nodes.yaml"), document)
    nodes_file.write(os.path.join(state["lab_dir"], "instackenv.json"), document)


def up(lab_dir: str, count: int, name: str, bridge_name: str, memory_mb: int = 1024,
       cpus: int = 1, disk_gb: int = 4, first_bmc_port: int = 6230) -> dict:
    """Make the lab (or restart the BMCs of the existing one); returns its state."""
    lab_dir = os.path.abspath(lab_dir)
    existing = load(lab_dir)
    check_kind(existing, KIND)
    if existing is not None:
        if len(existing["nodes"]) != count:
            raise LabError(f"the lab in {lab_dir} has {len(existing['nodes'])} nodes, not "
                           f"{count}: `stackbox lab down` first to change it")
        return _resume(existing)
    check_name(name)
    if count < 1:
        raise LabError(f"--nodes {count} must be at least 1")
    check_bmc_ports(first_bmc_port, count)
    # qemu runs as its own user: it must reach the disks and the console logs.
    os.makedirs(lab_dir, mode=0o755, exist_ok=True)
    os.chmod(lab_dir, 0o755)
    connection = _connect()
    try:
        state = {"kind": KIND, "lab_dir": lab_dir, "name": name, "uri": URI,
                 "bridge": bridge_name, "bridge_made": False,
                 "nodes": _plan(lab_dir, name, count, first_bmc_port, bridge_name,
                                memory_mb, cpus, disk_gb)}
        _check_free(connection, state["nodes"])
        save(state)
        try:
            state["bridge_made"] = bridge.ensure(bridge_name)
            save(state)
            for node in state["nodes"]:
                node["created"] = True   # before the domain, so `down` removes half-made ones
                save(state)
                vms.create(connection, vms.LabVm(
                    name=node["name"], mac=node["mac"], bridge=bridge_name,
                    disk_path=node["disk_path"], console_log=node["console_log"],
                    memory_mb=memory_mb, cpus=cpus, disk_gb=disk_gb))
                _start_bmc(state, node)
            _write_nodes_files(state)
        except (bridge.BridgeError, vms.VmError, bmcs.BmcError, OSError) as exc:
            LOG.error("lab up failed, removing what it made: %s", exc)
            _remove(state, connection)
            raise LabError(str(exc)) from None
    finally:
        connection.close()
    return state


def _resume(state: dict) -> dict:
    connection = _connect()
    try:
        missing = [node["name"] for node in state["nodes"]
                   if vms.power_state(connection, node["name"]) == "missing"]
    finally:
        connection.close()
    if missing:
        raise LabError(f"the lab in {state['lab_dir']} lost its VMs {', '.join(missing)}: "
                       "`stackbox lab down`, then up again")
    state["bridge_made"] = bridge.ensure(state["bridge"]) or state["bridge_made"]
    for node in state["nodes"]:
        if not bmcs.running(node["bmc"]["pid"], node["bmc_config"]):
            try:
                _start_bmc(state, node)
            except bmcs.BmcError as exc:
                raise LabError(str(exc)) from None
    _write_nodes_files(state)
    return state


def _remove(state: dict, connection) -> list[str]:
    """Remove everything the lab made; returns the problems it could not fix."""
    problems = []
    for node in state["nodes"]:
        try:
            bmcs.stop(node["bmc"].get("pid"), node["bmc_config"])
        except bmcs.BmcError as exc:
            problems.append(str(exc))
        if node.get("created"):
            try:
                vms.remove(connection, node["name"], node["disk_path"])
            except (vms.VmError, OSError) as exc:
                problems.append(str(exc))
        if os.path.exists(node["bmc_config"]):
            os.unlink(node["bmc_config"])
    if state.get("bridge_made"):
        try:
            bridge.remove(state["bridge"])
        except bridge.BridgeError as exc:
            problems.append(str(exc))
    return forget(state, ("nodes.yaml", "instackenv.json"), ("bmc", "disks"), problems)


def forget(state: dict, files, folders, problems: list[str]) -> list[str]:
    """Remove the files the lab wrote and its emptied folders; the state goes too unless
    something could not be removed (then a later `lab down` retries). Returns `problems`."""
    for leftover in files:
        path = os.path.join(state["lab_dir"], leftover)
        if os.path.exists(path):
            os.unlink(path)
    for folder in folders:
        try:
            os.rmdir(os.path.join(state["lab_dir"], folder))
        except OSError:
            pass   # missing, or holds files the lab did not make
    if problems:
        save(state)
    else:
        os.unlink(_state_path(state["lab_dir"]))
    return problems


def down(lab_dir: str) -> dict | None:
    """Remove the lab's BMCs, VMs, disks, nodes files and the bridge if it made it; the
    logs stay. Returns the state it removed, or None when there was no lab."""
    state = load(os.path.abspath(lab_dir))
    if state is None:
        return None
    check_kind(state, KIND)
    connection = _connect()
    try:
        problems = _remove(state, connection)
    finally:
        connection.close()
    if problems:
        raise LabError("the lab is partly removed; run `stackbox lab down` again: "
                       + "; ".join(problems))
    return state


def status(lab_dir: str) -> list[dict] | None:
    """Each node's VM power state and whether its BMC runs and answers; None: no lab."""
    state = load(os.path.abspath(lab_dir))
    if state is None:
        return None
    check_kind(state, KIND)
    connection = _connect()
    try:
        rows = []
        for node in state["nodes"]:
            bmc = node["bmc"]
            rows.append({"name": node["name"], "mac": node["mac"],
                         "power": vms.power_state(connection, node["name"]),
                         "bmc": f"{bmc['address']}:{bmc['port']}",
                         "bmc_running": bmcs.running(bmc["pid"], node["bmc_config"]),
                         "bmc_answers": bmcs.answers(bmc["address"], bmc["port"])})
        return rows
    finally:
        connection.close()


def unplug(lab_dir: str, node_name: str, plugged: bool = False) -> None:
    """Pull (or put back) a lab VM's network cable, to test nodes that never call back."""
    state = load(os.path.abspath(lab_dir))
    if state is None or node_name not in {node["name"] for node in state["nodes"]}:
        raise LabError(f"no lab node {node_name} in {lab_dir}")
    connection = _connect()
    try:
        vms.set_link(connection, node_name, plugged)
    except vms.VmError as exc:
        raise LabError(str(exc)) from None
    finally:
        connection.close()
