"""Nodes files: TripleO's instackenv (JSON) and the same in YAML (nodes.yaml).

A file is {"nodes": [NODE, ...]} (a bare list is read too). NODE is TripleO's:
{"name", "pm_type": "ipmi", "pm_addr", "pm_port", "pm_user", "pm_password", "mac": [...],
"cpu", "memory" (MiB), "disk" (GiB), "arch", "capabilities": "profile:compute,..."}.
``read`` checks every node and names the node and field that are wrong.
"""
import json
import re

import yaml

from undercloud.common.files import write_secret

MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
PM_TYPES = ("ipmi", "pxe_ipmitool", "ipmitool")   # TripleO's older names for the same driver
NUMBERS = {"cpu": "cpus", "memory": "memory_mb", "disk": "local_gb"}


class NodesFileError(Exception):
    """The nodes file cannot be read or is wrong; the message says where."""


def write(path: str, nodes: list[dict]) -> None:
    """Write the nodes as YAML, or JSON when the path ends in .json (both hold passwords)."""
    document = {"nodes": nodes}
    text = json.dumps(document, indent=2) + "\n" if path.endswith(".json") \
        else yaml.safe_dump(document, sort_keys=False)
    write_secret(path, text)


def _mac_text(value):
    """YAML 1.1 reads an unquoted all-digit MAC (52:54:00:12:34:56) as a base-60 number."""
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    groups, rest = [], value
    for _ in range(6):
        rest, group = divmod(rest, 60)
        groups.append(f"{group:02d}")
    return ":".join(reversed(groups)) if rest == 0 else str(value)


def _capabilities(value, where: str) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return {str(key): str(item) for key, item in value.items()}
    if not isinstance(value, str):
        raise NodesFileError(f"{where}: capabilities must be \"key:value,...\" or a mapping")
    capabilities = {}
    for pair in filter(None, (part.strip() for part in value.split(","))):
        key, colon, item = pair.partition(":")
        if not colon or not key:
            raise NodesFileError(f"{where}: capability {pair!r} must be key:value")
        capabilities[key] = item
    return capabilities


def _check(node, index: int) -> dict:
    where = f"node {index}"
    if not isinstance(node, dict):
        raise NodesFileError(f"{where}: must be a mapping of fields, not {node!r}")
    if node.get("name"):
        where = f"node {index} ({node['name']})"
    pm_type = node.get("pm_type", "ipmi")
    if pm_type not in PM_TYPES:
        raise NodesFileError(f"{where}: pm_type {pm_type!r} is not supported (use ipmi)")
    for field in ("pm_addr", "pm_user", "pm_password"):
        if not isinstance(node.get(field), str) or not node[field]:
            raise NodesFileError(f"{where}: {field} is required (a non-empty string)")
    port = node.get("pm_port", 623)
    try:
        port = int(port)
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        raise NodesFileError(f"{where}: pm_port {node.get('pm_port')!r} must be 1-65535")
    macs = node.get("mac", [])
    macs = [_mac_text(mac) for mac in (macs if isinstance(macs, list) else [macs])]
    if not all(isinstance(mac, str) for mac in macs):
        raise NodesFileError(f"{where}: mac must be a list of MAC addresses")
    macs = [mac.lower() for mac in macs]
    for mac in macs:
        if not MAC.match(mac):
            raise NodesFileError(f"{where}: mac {mac!r} is not a MAC address "
                                 "(like 52:54:00:12:34:56)")
    properties = {}
    for field, name in NUMBERS.items():
        if node.get(field) in (None, ""):
            continue
        try:
            properties[name] = int(node[field])
        except (TypeError, ValueError):
            raise NodesFileError(f"{where}: {field} {node[field]!r} must be a whole "
                                 "number") from None
    if node.get("arch"):
        properties["cpu_arch"] = str(node["arch"])
    capabilities = _capabilities(node.get("capabilities"), where)
    if capabilities:
        properties["capabilities"] = ",".join(f"{key}:{value}"
                                              for key, value in capabilities.items())
    return {"name": node.get("name") or None, "address": node["pm_addr"], "port": port,
            "username": node["pm_user"], "password": node["pm_password"], "macs": macs,
            "properties": properties}


def parse(text: str, source: str = "the nodes file") -> list[dict]:
    """The checked nodes: {"name", "address", "port", "username", "password", "macs",
    "properties": {cpus, memory_mb, local_gb, cpu_arch, capabilities}}."""
    try:
        document = yaml.safe_load(text)   # JSON is YAML too
    except yaml.YAMLError as exc:
        raise NodesFileError(f"{source} is neither YAML nor JSON: {exc}") from None
    nodes = document.get("nodes") if isinstance(document, dict) else document
    if not isinstance(nodes, list) or not nodes:
        raise NodesFileError(f"{source} must hold a non-empty list of nodes, or "
                             "{\"nodes\": [...]}")
    checked = [_check(node, index) for index, node in enumerate(nodes)]
    seen = {}
    for index, node in enumerate(checked):
        for key in [("name", node["name"])] + [("mac", mac) for mac in node["macs"]]:
            if key[1] and key in seen:
                raise NodesFileError(f"node {index}: {key[0]} {key[1]} is also node "
                                     f"{seen[key]}'s")
            seen[key] = index
    return checked


def read(path: str) -> list[dict]:
    try:
        with open(path) as source:
            text = source.read()
    except OSError as exc:
        raise NodesFileError(f"cannot read {path}: {exc.strerror}") from None
    return parse(text, path)
