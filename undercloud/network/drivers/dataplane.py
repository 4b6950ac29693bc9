"""One reconcile pass: make this host's kernel match its host_state, and undo all of it.

A pass reads what is there (links, namespaces, chains, dnsmasq pid files), makes what is
missing, fixes what differs and removes what is ours but no longer wanted, each network and
router on its own so one failure does not stop the others. A second pass with the same state
changes nothing. Everything made is recorded in the ledger first (see ledger.py).
"""
import hashlib
import ipaddress
import logging
import os
import threading
from dataclasses import dataclass, field

from pyroute2 import IPRoute

from undercloud.network import devices
from undercloud.host import dnsmasq
from undercloud.network.drivers import dhcp, namespaces, routers
from undercloud.network.drivers.bridges import L2, configure_interface
from undercloud.network.drivers.firewall import Firewall
from undercloud.network.drivers.ledger import Ledger

LOG = logging.getLogger(__name__)


def top_chain(config) -> str:
    """This agent's iptables chain: named after its data folder, so two agents on one host
    (a test beside a running cloud) never rewrite each other's rules."""
    return "sbx-" + hashlib.sha256(config["data_dir"].encode()).hexdigest()[:8]


@dataclass
class Outcome:
    """What a pass achieved: the ports now wired here, and what failed (by id)."""
    wired_ports: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class DataPlane:
    def __init__(self, config, metadata_proxy=None):
        network = config["network"]
        self.folder = config.path("network")
        os.makedirs(self.folder, mode=0o755, exist_ok=True)
        self.dhcp_folder = os.path.join(self.folder, "dhcp")
        self.ledger = Ledger(os.path.join(self.folder, "ledger.json"))
        self.tunnel_ip = network.get("tunnel_ip") or "127.0.0.1"
        self.physical_mappings = dict(network.get("physical_mappings") or {})
        self.dns_servers = list(network.get("dns_servers") or [])
        self.dns_domain = network.get("dns_domain") or "openstacklocal"
        self.firewall = Firewall(self.ledger, top_chain(config))
        self.proxy = metadata_proxy
        self._router_rules: dict[str, str] = {}
        self._foreign: set[str] = set()
        self._lock = threading.Lock()

    # ---- a pass ------------------------------------------------------------------------------

    def apply(self, state: dict, modes) -> Outcome:
        with self._lock, IPRoute() as ipr:
            outcome = Outcome()
            l2 = L2(ipr, self.ledger, self.tunnel_ip, self.physical_mappings, self._foreign)
            # Bridges serve guests (l2), DHCP servers and routers; an agent with none of
            # those modes leaves the kernel alone.
            networks = (state.get("networks") or []) if {"l2", "dhcp", "l3"} & set(modes) \
                else []
            dhcp_entries = [entry for entry in state.get("dhcp") or []
                            if "dhcp" in modes and dhcp.served_subnets(entry)]
            # An admin-down router is wired (its ports are ACTIVE, as tempest expects) but
            # does not forward (routers.configure).
            router_list = list(state.get("routers") or []) if "l3" in modes else []
            wanted_devices, wanted_namespaces = self._record(l2, networks, dhcp_entries,
                                                             router_list)
            bridges = set()
            for network in networks:
                if self._safely(outcome, network["id"], l2.wire_network, network):
                    bridges.add(network["bridge"])
            ports = [port for port in state.get("ports") or []
                     if "l2" in modes and port["bridge"] in bridges]
            if self._safely(outcome, "firewall", self.firewall.apply, ports,
                            state.get("security_groups") or {}, sorted(bridges)):
                outcome.wired_ports.update(port["id"] for port in ports)
            for entry in dhcp_entries:
                if self._safely(outcome, entry["network_id"], self._dhcp, l2, entry):
                    outcome.wired_ports.add(entry["port"]["id"])
            for router in router_list:
                if self._safely(outcome, router["id"], self._router, l2, router,
                                "metadata" in modes):
                    outcome.wired_ports.update(i["port_id"] for i in routers.interfaces(router))
            self._remove_unwanted(l2, wanted_devices, wanted_namespaces,
                                  {entry["network_id"] for entry in dhcp_entries})
            outcome.counts = {"networks": len(bridges), "ports": len(ports),
                              "dhcp_networks": len(dhcp_entries), "routers": len(router_list),
                              "floating_ips": sum(len(routers.floating_ips(r))
                                                  for r in router_list)}
            return outcome

    @staticmethod
    def _safely(outcome: Outcome, what: str, work, *args) -> bool:
        try:
            result = work(*args)
        except Exception as exc:  # the rest of the host still gets wired
            LOG.exception("could not wire %s; the next pass retries", what)
            outcome.failed[what] = str(exc)
            return False
        return result is not False

    def _record(self, l2, networks, dhcp_entries, router_list):
        """Everything this state wants made, recorded before it is made."""
        wanted_devices, wanted_namespaces = set(), set()
        for network in networks:
            wanted_devices.update(l2.devices_for(network))
        for entry in dhcp_entries:
            wanted_namespaces.add(devices.dhcp_namespace(entry["network_id"]))
            wanted_devices.add(entry["port"]["tap"])
        for router in router_list:
            wanted_namespaces.add(devices.router_namespace(router["id"]))
            wanted_devices.update(i["tap"] for i in routers.interfaces(router))
        present = namespaces.names()
        self.ledger.add("namespaces", *(wanted_namespaces - present))
        self.ledger.add("devices", *(wanted_devices - set(l2.links)))
        return wanted_devices, wanted_namespaces

    # ---- namespaces with veths ---------------------------------------------------------------

    def _plug(self, l2, namespace: str, veths: list[dict], inside):
        """Veths from bridges into the namespace, then inside(): the work done in there,
        which returns the inner names it could not find (their veths are made again)."""
        if namespace not in namespaces.names():
            LOG.info("creating namespace %s", namespace)
            namespaces.create(namespace)
        for _ in range(2):
            for veth in veths:
                if veth["bridge"] not in l2.links:
                    raise RuntimeError(f"bridge {veth['bridge']} of {veth['name']} is not wired")
                l2.plug_veth(veth["tap"], veth["name"], namespace, veth["mac"], veth["mtu"],
                             veth["bridge"])
            missing = namespaces.run_in(namespace, inside)
            if not missing:
                return
            LOG.info("namespace %s: %s missing; making their veths again", namespace,
                     ", ".join(missing))
            for veth in veths:
                if veth["name"] in missing:
                    l2.delete(veth["tap"])
        raise RuntimeError(f"namespace {namespace}: {', '.join(missing)} could not be made")

    def _dhcp(self, l2, entry: dict):
        network_id, port = entry["network_id"], entry["port"]
        namespace = devices.dhcp_namespace(network_id)
        inner = devices.dhcp_interface(port["id"])
        prefixes = {subnet["id"]: ipaddress.ip_network(subnet["cidr"]).prefixlen
                    for subnet in entry["subnets"]}
        addresses = [f"{ip['ip_address']}/{prefixes[ip['subnet_id']]}"
                     for ip in port["fixed_ips"] if ip["subnet_id"] in prefixes]
        servers = [address for address in addresses if "." in address]
        folder = os.path.join(self.dhcp_folder, network_id)
        command = dhcp.argv(entry, folder, inner, self.dns_domain, dnsmasq.user_for(folder))
        hosts, opts = dhcp.hosts_text(entry), dhcp.opts_text(entry, self.dns_servers)

        if namespace not in namespaces.names():
            dhcp.stop(network_id, folder)   # one left in a namespace someone deleted

        def inside():
            with IPRoute() as ipr:
                if not configure_interface(ipr, inner, addresses, entry["mtu"],
                                           port["mac_address"]):
                    return [inner]
            dhcp.ensure(network_id, folder, command, hosts, opts, inner, servers)
            return []
        self._plug(l2, namespace, [{"tap": port["tap"], "name": inner, "bridge": entry["bridge"],
                                    "mac": port["mac_address"], "mtu": entry["mtu"]}], inside)

    def _router(self, l2, router: dict, metadata: bool):
        namespace = devices.router_namespace(router["id"])
        metadata_port = self.proxy.port if metadata and self.proxy else None
        rules = routers.rules_text(router, metadata_port)
        changed = self._router_rules.get(router["id"]) != rules
        if namespace not in namespaces.names():   # new, or deleted behind our back
            changed = True
            if self.proxy:
                self.proxy.stop(router["id"])
        self._plug(l2, namespace, routers.interfaces(router),
                   lambda: routers.configure(router, rules, changed))
        self._router_rules[router["id"]] = rules
        if metadata_port:
            self.proxy.serve(router["id"], namespace)
        elif self.proxy:
            self.proxy.stop(router["id"])

    # ---- removal -----------------------------------------------------------------------------

    def _remove_unwanted(self, l2, wanted_devices, wanted_namespaces, dhcp_networks):
        removed = self._remove_namespaces(self.ledger.names("namespaces") - wanted_namespaces)
        self._remove_dhcp_files(set(self._dhcp_folders()) - dhcp_networks)
        self._remove_devices(l2, self.ledger.names("devices") - wanted_devices, wait=removed)

    def _dhcp_folders(self) -> dict[str, str]:
        if not os.path.isdir(self.dhcp_folder):
            return {}
        return {network_id: os.path.join(self.dhcp_folder, network_id)
                for network_id in os.listdir(self.dhcp_folder)}

    def _remove_dhcp_files(self, network_ids):
        folders = self._dhcp_folders()
        dhcp.remove({network_id: folders[network_id] for network_id in network_ids})

    def _remove_namespaces(self, names) -> bool:
        """Routers and DHCP servers: their proxies and dnsmasq first, then the namespaces."""
        names = sorted(names)
        stopping = set()
        for namespace in names:
            if namespace.startswith("qrouter-"):
                router_id = namespace[len("qrouter-"):]
                LOG.info("router %s: removing namespace %s", router_id, namespace)
                if self.proxy:
                    self.proxy.stop(router_id)
                self._router_rules.pop(router_id, None)
            elif namespace.startswith("qdhcp-"):
                LOG.info("network %s: removing DHCP namespace %s", namespace[len("qdhcp-"):],
                         namespace)
                stopping.add(namespace[len("qdhcp-"):])
        self._remove_dhcp_files(stopping & set(self._dhcp_folders()))
        for namespace in names:
            namespaces.delete(namespace)
        self.ledger.discard("namespaces", *names)
        return bool(names)

    def _remove_devices(self, l2, names, wait: bool):
        """The veths of removed namespaces go with them, all in one batch of the kernel's
        (far faster than one by one): wait for that, then delete the rest, bridges last."""
        names = sorted(names)
        if wait:
            l2.wait_gone([name for name in names if name in l2.links and name.startswith("tap")])
        order = {"tap": 0, "vxlan-": 1, "brq": 3}
        for name in sorted(names, key=lambda n: next(
                (rank for prefix, rank in order.items() if n.startswith(prefix)), 2)):
            if name in l2.links:
                LOG.info("removing device %s", name)
                l2.delete(name)
        self.ledger.discard("devices", *names)

    # ---- everything --------------------------------------------------------------------------

    def teardown(self) -> None:
        """Remove every namespace, device, chain and dnsmasq this agent made."""
        with self._lock, IPRoute() as ipr:
            l2 = L2(ipr, self.ledger, self.tunnel_ip, self.physical_mappings)
            removed = self._remove_namespaces(self.ledger.names("namespaces"))
            self._remove_dhcp_files(self._dhcp_folders())
            self._remove_devices(l2, self.ledger.names("devices"), wait=removed)
            self.firewall.clear()
            self._router_rules.clear()
        LOG.info("network data plane removed from this host")
