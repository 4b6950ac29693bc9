"""L2 on this host: a Linux bridge per network, its VXLAN device (unicast peers) or VLAN
sub-interface, flat networks on the mapped bridge, and veths from bridges into namespaces.

Works on one IPRoute of the host namespace and a snapshot of its links, read once per pass.
"""
import ipaddress
import logging
import time
from dataclasses import dataclass

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_NODAD

from undercloud.network import devices
from undercloud.network.drivers import namespaces

LOG = logging.getLogger(__name__)
VXLAN_PORT = 4789
ANY_MAC = "00:00:00:00:00:00"
ENOENT, ENODEV = 2, 19


@dataclass
class Link:
    name: str
    index: int
    kind: str | None
    master: int | None
    mtu: int
    up: bool
    vni: int | None = None
    local: str | None = None


def _link(message) -> Link:
    info = message.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info else None
    data = info.get("IFLA_INFO_DATA") if info else None
    link = Link(name=message.get("IFLA_IFNAME"), index=message["index"], kind=kind,
                master=message.get("IFLA_MASTER"), mtu=message.get("IFLA_MTU"),
                up=bool(message["flags"] & 1))
    if kind == "vxlan" and data is not None:
        link.vni, link.local = data.get("IFLA_VXLAN_ID"), data.get("IFLA_VXLAN_LOCAL")
    return link


def read_links(ipr) -> dict[str, Link]:
    return {link.name: link for link in map(_link, ipr.link("dump"))}


class L2:
    def __init__(self, ipr, ledger, tunnel_ip: str, physical_mappings: dict,
                 foreign: set[str] | None = None):
        self.ipr = ipr
        self.ledger = ledger
        self.tunnel_ip = tunnel_ip
        self.physical_mappings = physical_mappings
        self.links = read_links(ipr)
        self._fdb: dict[int, set[str]] | None = None
        self._foreign = set() if foreign is None else foreign   # said once per agent

    def refresh(self):
        self.links = read_links(self.ipr)
        self._fdb = None

    # ---- networks ----------------------------------------------------------------------------

    def devices_for(self, network: dict) -> list[str]:
        """The host devices we make for a network, bridge first."""
        kind = network["network_type"]
        names = []
        if network["bridge"] not in self.physical_mappings.values():
            names.append(network["bridge"])
        if kind == "vxlan":
            names.append(devices.vxlan(network["segmentation_id"]))
        elif kind == "vlan" and network["physical_network"] in self.physical_mappings:
            names.append(devices.vlan(self.physical_mappings[network["physical_network"]],
                                      network["segmentation_id"]))
        return names

    def wire_network(self, network: dict) -> bool:
        """Bridge, uplink and peers of one network; False when it cannot be wired here."""
        kind, bridge, mtu = network["network_type"], network["bridge"], network["mtu"]
        if bridge in self.physical_mappings.values():
            if bridge not in self.links:
                LOG.error("network %s: mapped bridge %s does not exist on this host",
                          network["id"], bridge)
                return False
        else:
            self._ensure_bridge(network["id"], bridge, mtu)
        if kind == "vxlan":
            name = devices.vxlan(network["segmentation_id"])
            self._ensure_vxlan(network["id"], name, network["segmentation_id"], mtu, bridge,
                               network.get("vxlan_peers") or [])
        elif kind == "vlan":
            parent = self.physical_mappings.get(network["physical_network"])
            if parent is None or parent not in self.links or parent == bridge:
                LOG.error("network %s: physical network %s has no usable mapping (%s) here",
                          network["id"], network["physical_network"], parent)
                return False
            self._ensure_vlan(network["id"], devices.vlan(parent, network["segmentation_id"]),
                              parent, network["segmentation_id"], mtu, bridge)
        return True

    def _ensure_bridge(self, network_id, name, mtu):
        link = self.links.get(name)
        if link is None:
            LOG.info("network %s: creating bridge %s (mtu %s)", network_id, name, mtu)
            self.ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
            self._reload(name)
        elif link.kind != "bridge":
            LOG.error("network %s: %s exists but is not a bridge", network_id, name)
            return
        if self._ours(network_id, name):
            self._set(name, mtu=mtu)

    def _ensure_vxlan(self, network_id, name, vni, mtu, bridge, peers):
        link = self.links.get(name)
        wrong = link is not None and (link.kind, link.vni, link.local) != \
            ("vxlan", vni, self.tunnel_ip)
        if wrong and self.ledger.owns("devices", name):
            LOG.info("network %s: replacing %s (vni %s, local %s)", network_id, name,
                     link.vni, link.local)
            self.delete(name)
            link = None
        if link is None:
            LOG.info("network %s: creating %s (vni %d, local %s)", network_id, name, vni,
                     self.tunnel_ip)
            self.ipr.link("add", ifname=name, kind="vxlan", vxlan_id=vni,
                          vxlan_local=self.tunnel_ip, vxlan_port=VXLAN_PORT, vxlan_learning=0,
                          mtu=mtu, master=self.links[bridge].index)
            self._reload(name)
        if self._ours(network_id, name):
            self._set(name, mtu=mtu, master=bridge)
            self._ensure_peers(network_id, name, peers)

    def _ours(self, network_id, name) -> bool:
        """Devices someone else made (another cloud's VXLAN with the same VNI on this host)
        are used as they are or left alone, never changed."""
        if self.ledger.owns("devices", name):
            return True
        if name not in self._foreign:
            self._foreign.add(name)
            LOG.error("network %s: %s already exists and was not made by this agent; "
                      "leaving it alone (another cloud on this host with the same VNI or "
                      "VLAN?)", network_id, name)
        return False

    def _peers(self) -> dict[int, set[str]]:
        """Every VXLAN device's unicast peers, by device index: one FDB dump per pass."""
        if self._fdb is None:
            self._fdb = {}
            for entry in self.ipr.fdb("dump"):
                if entry.get("NDA_LLADDR") == ANY_MAC and entry.get("NDA_DST"):
                    self._fdb.setdefault(entry["ifindex"], set()).add(entry.get("NDA_DST"))
        return self._fdb

    def _ensure_peers(self, network_id, name, peers):
        index = self.links[name].index
        wanted = {peer for peer in peers if peer != self.tunnel_ip}
        present = self._peers().get(index, set())
        for peer in sorted(wanted - present):
            LOG.info("network %s: VXLAN peer %s on %s", network_id, peer, name)
            self.ipr.fdb("append", ifindex=index, lladdr=ANY_MAC, dst=peer)
        for peer in sorted(present - wanted):
            LOG.info("network %s: dropping VXLAN peer %s from %s", network_id, peer, name)
            self.ipr.fdb("del", ifindex=index, lladdr=ANY_MAC, dst=peer)

    def _ensure_vlan(self, network_id, name, parent, vlan_id, mtu, bridge):
        if name not in self.links:
            LOG.info("network %s: creating VLAN %d on %s as %s", network_id, vlan_id, parent,
                     name)
            self.ipr.link("add", ifname=name, kind="vlan", link=self.links[parent].index,
                          vlan_id=vlan_id, mtu=mtu, master=self.links[bridge].index)
            self._reload(name)
        if self._ours(network_id, name):
            self._set(name, mtu=mtu, master=bridge)

    # ---- veths into namespaces --------------------------------------------------------------

    def plug_veth(self, tap: str, inner: str, namespace: str, mac: str, mtu: int, bridge: str):
        """A veth whose `inner` end (with the port's MAC) is in `namespace`, `tap` on `bridge`."""
        if tap not in self.links:
            LOG.info("namespace %s: creating %s with %s on bridge %s", namespace, inner, tap,
                     bridge)
            self.ipr.link("add", ifname=tap, kind="veth", mtu=mtu,
                          master=self.links[bridge].index,
                          peer={"ifname": inner, "net_ns_fd": namespaces.path(namespace),
                                "address": mac, "mtu": mtu})
            self._reload(tap)
        self._set(tap, mtu=mtu, master=bridge)

    # ---- both --------------------------------------------------------------------------------

    def _reload(self, name):
        self.links[name] = _link(self.ipr.link("get", ifname=name)[0])

    def _set(self, name, mtu, master=None):
        """Up, with the MTU and (for a bridge port) the master we want."""
        link = self.links[name]
        changes = {}
        if link.mtu != mtu:
            changes["mtu"] = mtu
        if master is not None:
            master_index = self.links[master].index
            if link.master != master_index:
                changes["master"] = master_index
        if changes:
            LOG.info("device %s: setting %s", name, ", ".join(
                f"mtu {mtu}" if key == "mtu" else f"bridge {master}" for key in changes))
            self.ipr.link("set", index=link.index, **changes)
        if not link.up:
            self.ipr.link("set", index=link.index, state="up")
        if changes or not link.up:
            self._reload(name)

    def wait_gone(self, names, seconds: float = 3.0) -> None:
        """Wait (a little) for devices the kernel is removing by itself."""
        deadline = time.monotonic() + seconds
        remaining = list(names)
        while remaining and time.monotonic() < deadline:
            remaining = [name for name in remaining if self._exists(name)]
            if remaining:
                time.sleep(0.01)
        for name in set(names) - set(remaining):
            self.links.pop(name, None)

    def _exists(self, name: str) -> bool:
        try:
            self.ipr.link("get", ifname=name)
            return True
        except NetlinkError as exc:
            if exc.code not in (ENOENT, ENODEV):
                raise
            return False

    def delete(self, name: str) -> None:
        link = self.links.pop(name, None)
        try:
            if link is not None:
                self.ipr.link("del", index=link.index)
            else:
                self.ipr.link("del", ifname=name)
        except NetlinkError as exc:
            if exc.code not in (ENOENT, ENODEV):
                raise


def configure_interface(ipr, name: str, addresses: list[str], mtu: int, mac: str) -> bool:
    """Inside a namespace: the interface up with exactly `addresses` (CIDR form, link-local
    ones aside). False when the interface is not there (its veth must be made again)."""
    found = ipr.link_lookup(ifname=name)
    if not found:
        return False
    index = found[0]
    link = ipr.link("get", index=index)[0]
    if link.get("IFLA_ADDRESS") != mac or link.get("IFLA_MTU") != mtu:
        ipr.link("set", index=index, address=mac, mtu=mtu)
    if not link["flags"] & 1:
        ipr.link("set", index=index, state="up")
    wanted = {str(ipaddress.ip_interface(address)) for address in addresses}
    present = set()
    for message in ipr.addr("dump", index=index):
        address = ipaddress.ip_interface(f"{message.get('IFA_ADDRESS')}/{message['prefixlen']}")
        if not address.is_link_local:
            present.add(str(address))
    for address in sorted(wanted - present):
        interface = ipaddress.ip_interface(address)
        LOG.info("interface %s: adding %s", name, address)
        if interface.version == 4:
            ipr.addr("add", index=index, address=str(interface.ip),
                     prefixlen=interface.network.prefixlen, broadcast=True)
        else:
            ipr.addr("add", index=index, address=str(interface.ip),
                     prefixlen=interface.network.prefixlen, flags=IFA_F_NODAD)
    for address in sorted(present - wanted):
        interface = ipaddress.ip_interface(address)
        LOG.info("interface %s: removing %s", name, address)
        ipr.addr("del", index=index, address=str(interface.ip),
                 prefixlen=interface.network.prefixlen)
    return True
