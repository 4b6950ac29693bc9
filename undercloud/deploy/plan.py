"""The overcloud plan: the YAML file that says which hosts run which roles.

    name: overcloud              # optional, default "overcloud": the cloud's name
    hosts:                       # deployed servers: hosts that are already installed
      oc-ctl-0: {address: 10.89.0.10, roles: [control]}
      oc-net-0: {address: 10.89.0.11, roles: [network]}
      oc-cmp-0: {address: 10.89.0.12, roles: [compute]}
    baremetal:                   # optional: nodes to provision through the bare-metal API
      cloud: stackbox            # the clouds.yaml cloud (default stackbox)
      image: overcloud-image     # the image written onto each node (default overcloud-image)
      roles: {compute: {count: 2, profile: compute}}   # profile defaults to the role's name
      ctlplane_range: [192.168.24.30, 192.168.24.99]   # optional: the nodes' addresses
    ssh: {user: root, private_key: ~/.ssh/id_ed25519}   # optional; these are the defaults
                                 # (and known_hosts: FILE, the hosts' keys, e.g. the lab's)
    settings: {compute: {virt_type: qemu}}              # optional knobs per role

Hosts, bare-metal nodes, or both; together they need at least one control host. A node is
deployed with a config drive giving it its name, its ctlplane address and the public half of
the ssh private_key (provision.py, node_config.py). A host's
address is an IP address (the inventory's ansible_host), unique in the plan. Roles and the
services they run are in roles.py. ``read`` refuses a wrong plan with a PlanError that names
the host, role or key, before anything is touched; ``save_last`` and ``load_last`` keep the
plan of the last deploy for `stackbox overcloud plan` to diff against.
"""
import dataclasses
from collections.abc import Hashable
import ipaddress
import json
import os
import re
from dataclasses import dataclass

import yaml

from undercloud.common.files import read_if_exists, write_atomic
from undercloud.deploy import roles as catalogue

HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
PLAN_KEYS = ("name", "hosts", "baremetal", "ssh", "settings")
HOST_KEYS = ("address", "roles")
BAREMETAL_KEYS = ("cloud", "image", "roles", "ctlplane_range")
BAREMETAL_ROLE_KEYS = ("count", "profile")
SSH_KEYS = ("user", "private_key", "known_hosts")
LAST_PLAN = os.path.join("overcloud", "last-plan.json")


class PlanError(Exception):
    """The plan file cannot be read or is wrong; the message names the host, role or key."""


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    roles: tuple[str, ...]      # in catalogue order
    services: tuple[str, ...]   # the union of the roles' services


@dataclass(frozen=True)
class BaremetalRole:
    count: int       # how many nodes to provision for the role
    profile: str     # the nodes' profile capability to pick them by


@dataclass(frozen=True)
class Baremetal:
    cloud: str
    image: str
    roles: dict[str, BaremetalRole]
    # First and last address given to nodes on the provisioning network; None: its .30-.99.
    ctlplane_range: tuple[str, str] | None = None


@dataclass(frozen=True)
class Ssh:
    user: str = "root"
    private_key: str = "~/.ssh/id_ed25519"
    known_hosts: str | None = None   # the hosts' keys (the lab writes one); None: ssh's own


@dataclass(frozen=True)
class Plan:
    name: str
    hosts: dict[str, Host]
    baremetal: Baremetal | None
    ssh: Ssh
    settings: dict[str, dict]


class _Loader(yaml.SafeLoader):
    """A SafeLoader that refuses a key written twice (YAML would keep the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue   # SafeLoader refuses it below, as YAML
            if key in seen:
                raise PlanError(f"{key!r} is written twice (line "
                                f"{key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _mapping(value, where: str, allowed: tuple[str, ...]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError(f"{where}: must be a mapping of {', '.join(allowed)}, not {value!r}")
    for key in value:
        if key not in allowed:
            raise PlanError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")
    return value


def _text(value, where: str, key: str, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not value:
        raise PlanError(f"{where}: {key} must be a non-empty string, not {value!r}")
    return value


def _role(name, where: str) -> str:
    if not isinstance(name, str) or name not in catalogue.CATALOGUE:
        raise PlanError(f"{where}: unknown role {name!r} "
                        f"(known: {', '.join(catalogue.CATALOGUE)})")
    if catalogue.CATALOGUE[name].unavailable:
        raise PlanError(f"{where}: role {name} is not available yet: "
                        f"{catalogue.CATALOGUE[name].unavailable}")
    return name


def _host(name, fields) -> Host:
    if not isinstance(name, str) or not HOST_NAME.match(name):
        raise PlanError(f"host {name!r}: the name must be a host name (letters, digits, "
                        "hyphens)")
    where = f"host {name}"
    fields = _mapping(fields, where, HOST_KEYS)
    address = fields.get("address")
    try:
        if not isinstance(address, str):
            raise ValueError(address)   # ip_address would take 10 as 0.0.0.10
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise PlanError(f"{where}: address {address!r} is not an IP address "
                        "(like 10.89.0.10)") from None
    role_names = fields.get("roles")
    if not isinstance(role_names, list) or not role_names:
        raise PlanError(f"{where}: roles must be a non-empty list, like [compute]")
    for role_name in role_names:
        _role(role_name, where)
    pair = catalogue.exclusive_pair(role_names)
    if pair:
        raise PlanError(f"{where}: roles {pair[0]} and {pair[1]} cannot share a host")
    ordered = tuple(role for role in catalogue.CATALOGUE if role in role_names)
    return Host(name, address, ordered, catalogue.services_for(ordered))


def _baremetal(section) -> Baremetal | None:
    if section is None:
        return None
    section = _mapping(section, "baremetal", BAREMETAL_KEYS)
    wanted = _mapping(section.get("roles"), "baremetal roles", tuple(catalogue.CATALOGUE))
    if not wanted:
        raise PlanError("baremetal: roles must say how many nodes per role, like "
                        "{compute: {count: 2}}")
    roles = {}
    for role_name, fields in wanted.items():
        where = f"baremetal role {_role(role_name, 'baremetal')}"
        fields = _mapping(fields, where, BAREMETAL_ROLE_KEYS)
        count = fields.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise PlanError(f"{where}: count {count!r} must be a positive whole number")
        roles[role_name] = BaremetalRole(count, _text(fields.get("profile"), where,
                                                      "profile", role_name))
    return Baremetal(_text(section.get("cloud"), "baremetal", "cloud", "stackbox"),
                     _text(section.get("image"), "baremetal", "image", "overcloud-image"),
                     roles, _ctlplane_range(section.get("ctlplane_range")))


def _ctlplane_range(value) -> tuple[str, str] | None:
    if value is None:
        return None
    wrong = PlanError(f"baremetal: ctlplane_range {value!r} must be the first and last "
                      "address, like [192.168.24.30, 192.168.24.99]")
    if not isinstance(value, list) or len(value) != 2 or \
            not all(isinstance(address, str) for address in value):
        raise wrong
    try:
        first, last = (ipaddress.ip_address(address) for address in value)
    except ValueError:
        raise wrong from None
    if first.version != last.version or first > last:
        raise wrong
    return str(first), str(last)


def _settings(section) -> dict[str, dict]:
    section = _mapping(section, "settings", tuple(catalogue.CATALOGUE))
    for role_name, knobs in section.items():
        if not isinstance(knobs, dict):
            raise PlanError(f"settings {role_name}: must be a mapping of knobs, "
                            f"not {knobs!r}")
    return section


def parse(text: str, source: str = "the plan") -> Plan:
    """The checked plan, or a PlanError naming what is wrong."""
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise PlanError(f"{source} is not YAML: {getattr(exc, 'problem', None) or exc}"
                        f"{where}") from None
    document = _mapping(document, "the plan", PLAN_KEYS)
    name = _text(document.get("name"), "the plan", "name", "overcloud")
    hosts_section = document.get("hosts") or {}
    if not isinstance(hosts_section, dict):
        raise PlanError(f"hosts: must map each host's name to {{address, roles}}, "
                        f"not {hosts_section!r}")
    hosts = [_host(host_name, fields) for host_name, fields in hosts_section.items()]
    baremetal = _baremetal(document.get("baremetal"))
    if not hosts and baremetal is None:
        raise PlanError("the plan has no hosts: list hosts (deployed servers) or add a "
                        "baremetal section")
    seen = {}
    for host in hosts:
        if host.address in seen:
            raise PlanError(f"host {host.name}: address {host.address} is also host "
                            f"{seen[host.address]}'s")
        seen[host.address] = host.name
    if not any("control" in host.roles for host in hosts) and \
            "control" not in (baremetal.roles if baremetal else {}):
        raise PlanError("the plan has no control host: give at least one host the "
                        "control role")
    ssh = _mapping(document.get("ssh"), "ssh", SSH_KEYS)
    return Plan(name, {host.name: host for host in hosts}, baremetal,
                Ssh(_text(ssh.get("user"), "ssh", "user", Ssh.user),
                    _text(ssh.get("private_key"), "ssh", "private_key", Ssh.private_key),
                    _text(ssh.get("known_hosts"), "ssh", "known_hosts", None)),
                _settings(document.get("settings")))


def read(path: str) -> Plan:
    try:
        with open(path) as source:
            text = source.read()
    except OSError as exc:
        raise PlanError(f"cannot read {path}: {exc.strerror}") from None
    return parse(text, path)


def save_last(plan: Plan, state_dir: str) -> str:
    """Keep `plan` as the last deployed one (STATE_DIR/overcloud/last-plan.json)."""
    path = os.path.join(state_dir, LAST_PLAN)
    write_atomic(path, json.dumps(dataclasses.asdict(plan), indent=2) + "\n")
    return path


def _saved_range(value) -> tuple[str, str] | None:
    return tuple(value) if value else None


def load_last(state_dir: str) -> Plan | None:
    """The plan `save_last` kept, as it was then (services included), or None."""
    path = os.path.join(state_dir, LAST_PLAN)
    text = read_if_exists(path)
    if text is None:
        return None
    try:
        saved = json.loads(text)
        baremetal = saved["baremetal"]
        return Plan(saved["name"],
                    {name: Host(host["name"], host["address"], tuple(host["roles"]),
                                tuple(host["services"]))
                     for name, host in saved["hosts"].items()},
                    baremetal and Baremetal(baremetal["cloud"], baremetal["image"],
                                            {role: BaremetalRole(**fields) for role, fields
                                             in baremetal["roles"].items()},
                                            _saved_range(baremetal.get("ctlplane_range"))),
                    Ssh(**saved["ssh"]), saved["settings"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PlanError(f"{path} is not a saved plan ({exc!r}): remove it to diff against "
                        "nothing") from None
