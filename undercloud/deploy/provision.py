"""The plan's bare-metal roles, provisioned through the undercloud's bare-metal API (as
TripleO's `openstack overcloud node provision`): per role, `count` nodes whose capabilities
say profile:<profile>; available ones get a ctlplane address and the image, then go active
with a config drive that gives them their name, address and the deployer's SSH key.

Nodes already active with the role's profile are kept as they are, so a re-run provisions
only what is missing. Each provisioned node becomes a host named after the node, at the
ctlplane address recorded in its instance_info.
"""
import ipaddress
import time

from undercloud.deploy import node_config
from undercloud.deploy import roles as catalogue
from undercloud.deploy.plan import Baremetal, Host
from undercloud.deploy.progress import duration_text

POLL_SECONDS = 5.0
REPORT_SECONDS = 60.0
FIRST_HOST, LAST_HOST = 30, 99   # the default ctlplane range in the provisioning network
ACTIVE = "active"
FAILED_STATES = ("deploy failed", "error")
# Where a node goes on its way to active; a node of ours found here is waited for again.
DEPLOYING_STATES = ("deploying", "wait call-back", "deploy wait")


class ProvisionError(Exception):
    """Nodes cannot be found or provisioned; the message names the role or node."""


def profile_of(node: dict) -> str | None:
    """The node's profile capability: "profile:compute,boot_mode:bios" or a mapping."""
    capabilities = (node.get("properties") or {}).get("capabilities") or ""
    if isinstance(capabilities, dict):
        return capabilities.get("profile")
    for item in str(capabilities).split(","):
        key, _, value = item.strip().partition(":")
        if key == "profile":
            return value
    return None


def node_name(node: dict) -> str:
    return node.get("name") or node["uuid"]


def address_range(baremetal: Baremetal, provisioning_address: str) -> list[str]:
    """Every address nodes may get, in order: the plan's ctlplane_range, or .30-.99 of the
    undercloud's provisioning network (config baremetal.provisioning_address)."""
    network = ipaddress.ip_interface(provisioning_address).network
    if baremetal.ctlplane_range:
        first, last = (ipaddress.ip_address(text) for text in baremetal.ctlplane_range)
    else:
        first, last = network.network_address + FIRST_HOST, network.network_address + LAST_HOST
    if first not in network or last not in network:
        raise ProvisionError(f"ctlplane range {first}-{last} is outside the provisioning "
                             f"network {network} (config baremetal.provisioning_address)")
    return [str(ipaddress.ip_address(number)) for number in range(int(first), int(last) + 1)]


def choose(nodes: list[dict], baremetal: Baremetal) -> dict[str, tuple[list, list]]:
    """Per role: (the nodes kept: active or still deploying, the available nodes to deploy).
    Raises ProvisionError naming the role, how many were wanted and what was found."""
    chosen, taken = {}, set()
    for role, wanted in baremetal.roles.items():
        matching = sorted((node for node in nodes if profile_of(node) == wanted.profile
                           and node["uuid"] not in taken), key=node_name)
        kept = [node for node in matching if node.get("provision_state") in
                (ACTIVE, *DEPLOYING_STATES)]
        available = [node for node in matching if node.get("provision_state") == "available"
                     and not node.get("maintenance")]
        missing = max(0, wanted.count - len(kept))
        if len(available) < missing:
            others = sorted(f"{node_name(node)} ({node.get('provision_state')}"
                            f"{', maintenance' if node.get('maintenance') else ''})"
                            for node in matching if node not in kept and node not in available)
            raise ProvisionError(
                f"baremetal role {role}: wanted {wanted.count} node(s) with profile "
                f"{wanted.profile}, found {len(kept)} active and {len(available)} available"
                + (f"; not usable: {', '.join(others)}" if others else "")
                + f"; set properties/capabilities profile:{wanted.profile} on more nodes "
                  "and make them available (stackbox node introspect --provide)")
        chosen[role] = (kept, available[:missing])
        taken.update(node["uuid"] for node in kept + available[:missing])
    return chosen


def assign_addresses(nodes: list[dict], new: list[dict], candidates: list[str],
                     used: set[str]) -> dict[str, str]:
    """A free ctlplane address for each new node (uuid -> address): none that another node
    holds in instance_info or that `used` (the plan's hosts) has."""
    held = used | {(node.get("instance_info") or {}).get("ctlplane_address") for node in nodes}
    free = [address for address in candidates if address not in held]
    if len(free) < len(new):
        raise ProvisionError(f"the ctlplane range {candidates[0]}-{candidates[-1]} has "
                             f"{len(free)} free address(es) for {len(new)} node(s): widen "
                             "baremetal ctlplane_range in the plan")
    return {node["uuid"]: address for node, address in zip(new, free)}


def image_id(session, name: str) -> str:
    """The id of the undercloud image called `name`."""
    images = session.request(f"{session.endpoint('image')}/v2/images?name={name}")["images"]
    if len(images) != 1:
        raise ProvisionError(f"baremetal image {name!r}: the undercloud's image service has "
                             f"{len(images)} image(s) by that name, the plan needs exactly "
                             "one (openstack image create ... / the plan's baremetal image)")
    return images[0]["id"]


def wait_active(api, uuids: list[str], say, timeout: float, sleep=time.sleep,
                clock=time.monotonic) -> dict[str, dict]:
    """Poll until every node is active; ProvisionError on a failed deploy or the timeout."""
    started = clock()
    states: dict[str, str] = {}
    last_report = started
    while True:
        nodes = {node["uuid"]: node for node in api.nodes() if node["uuid"] in uuids}
        for uuid in uuids:
            node = nodes.get(uuid)
            if node is None:
                raise ProvisionError(f"node {uuid} disappeared while it was being deployed")
            state = node.get("provision_state")
            if state != states.get(uuid):
                states[uuid] = state
                say(f"  node {node_name(node)}: {state}")
            if state in FAILED_STATES:
                raise ProvisionError(f"node {node_name(node)}: {state}: "
                                     f"{node.get('last_error') or 'no last_error given'}")
        if all(state == ACTIVE for state in states.values()):
            return nodes
        if clock() - started > timeout:
            waiting = [node_name(nodes[uuid]) + f" ({states[uuid]})" for uuid in uuids
                       if states[uuid] != ACTIVE]
            raise ProvisionError(f"nodes not active after {duration_text(timeout)}: "
                                 f"{', '.join(waiting)}")
        if clock() - last_report >= REPORT_SECONDS:
            last_report = clock()
            done = sum(state == ACTIVE for state in states.values())
            say(f"  {done} of {len(uuids)} node(s) active after "
                f"{duration_text(clock() - started)}")
        sleep(POLL_SECONDS)


def _host(node: dict, role: str) -> Host:
    address = (node.get("instance_info") or {}).get("ctlplane_address")
    if not address:
        raise ProvisionError(f"node {node_name(node)} is {node.get('provision_state')} with "
                             "the role's profile but has no instance_info ctlplane_address: "
                             "it was not deployed by `stackbox overcloud deploy`; undeploy it "
                             "(openstack baremetal node undeploy) or change its profile")
    return Host(node_name(node), address, (role,), catalogue.services_for((role,)))


def _boot_mac(api, node: dict) -> str:
    try:
        return node_config.boot_mac(api.ports(node["uuid"]))
    except node_config.NodeConfigError as exc:
        raise ProvisionError(f"node {node_name(node)}: {exc}") from None


def provision(api, session, baremetal: Baremetal, provisioning_address: str,
              used_addresses: set[str], public_key: str, say,
              timeout: float) -> tuple[dict[str, Host], set[str]]:
    """Deploy what the plan's baremetal section is missing; return every node's host and the
    names of those deployed now."""
    nodes = api.nodes()
    chosen = choose(nodes, baremetal)
    new = [node for _, fresh in chosen.values() for node in fresh]
    addresses = assign_addresses(nodes, new, address_range(baremetal, provisioning_address),
                                 used_addresses)
    image = image_id(session, baremetal.image) if new else None
    for role, (kept, fresh) in chosen.items():
        say(f"Bare metal {role}: {len(kept)} node(s) kept, {len(fresh)} to deploy"
            + (f" ({', '.join(node_name(node) for node in fresh)})" if fresh else ""))
    # Every node's MAC is checked before any node is changed.
    macs = {node["uuid"]: _boot_mac(api, node) for node in new}
    for node in new:
        address = addresses[node["uuid"]]
        api.call("PATCH", f"/nodes/{node['uuid']}", [
            {"op": "add", "path": "/instance_info/image_source", "value": image},
            {"op": "add", "path": "/instance_info/ctlplane_address", "value": address}])
        api.set_provision_state(node["uuid"], "active", configdrive=node_config.config_drive(
            node, macs[node["uuid"]], address, provisioning_address, public_key))
    waiting = [node["uuid"] for kept, fresh in chosen.values() for node in kept + fresh
               if node.get("provision_state") != ACTIVE or node in fresh]
    final = wait_active(api, waiting, say, timeout) if waiting else {}
    hosts = {}
    for role, (kept, fresh) in chosen.items():
        for node in kept + fresh:
            host = _host(final.get(node["uuid"], node), role)
            hosts[host.name] = host
    return hosts, {node_name(node) for node in new}
