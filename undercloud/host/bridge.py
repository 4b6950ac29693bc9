"""The provisioning bridge: made when missing, else an existing bridge or NIC we only give our
addresses. Never a route or forwarding: the kernel's connected routes are all there is.

What we made is written down (DATA_DIR/baremetal/bridge.json), so after a crash the next
conductor still knows which bridge or addresses are its own to remove.
"""
import hashlib
import ipaddress
import json
import logging
import os

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_NODAD

from undercloud.common.files import write_atomic

LOG = logging.getLogger(__name__)
EEXIST, ENODEV = 17, 19


class BridgeError(Exception):
    """The bridge or its addresses cannot be set; the message names them."""


def ula(name: str) -> ipaddress.IPv6Interface:
    """A stable unique-local address for the bridge (RFC 4193: fd + 40 bits from its name);
    the prefix dnsmasq advertises, so iPXE finishes IPv6 at once."""
    global_id = hashlib.sha256(name.encode()).digest()[:5]
    prefix = ipaddress.IPv6Network((b"\xfd" + global_id + bytes(10), 64))
    return ipaddress.IPv6Interface(f"{prefix.network_address + 1}/64")


def _record(path: str) -> dict:
    try:
        with open(path) as stream:
            return json.load(stream)
    except (FileNotFoundError, ValueError):
        return {}


def _addresses(ipr, index: int) -> set[str]:
    return {f"{message.get_attr('IFA_ADDRESS')}/{message['prefixlen']}"
            for message in ipr.get_addr(index=index)}


def ensure(name: str, addresses: list[ipaddress.IPv4Interface | ipaddress.IPv6Interface],
           record_path: str) -> None:
    """The bridge up with these addresses; what this made is added to the record."""
    record = _record(record_path)
    if record.get("name") != name:
        record = {"name": name, "made": False, "index": None, "addresses": []}
    try:
        with IPRoute() as ipr:
            found = ipr.link_lookup(ifname=name)
            if found and record.get("index") != found[0]:
                # Not the device we made (if we made one): someone made it since.
                record.update(made=False, index=found[0], addresses=[])
                write_atomic(record_path, json.dumps(record))
            if not found:
                try:
                    ipr.link("add", ifname=name, kind="bridge")
                    made = True
                    LOG.info("made the provisioning bridge %s", name)
                except NetlinkError as exc:
                    if exc.code != EEXIST:  # someone else (the lab) made it just now
                        raise
                    made = False
                found = ipr.link_lookup(ifname=name)
                record.update(made=made, index=found[0], addresses=[])
                write_atomic(record_path, json.dumps(record))
            index = found[0]
            present = _addresses(ipr, index)
            for address in addresses:
                if str(address) in present:
                    continue
                LOG.info("adding %s to the provisioning bridge %s", address, name)
                try:
                    # No duplicate address detection: usable before a port is up.
                    ipr.addr("add", index=index, address=str(address.ip),
                             prefixlen=address.network.prefixlen,
                             flags=IFA_F_NODAD if address.version == 6 else 0)
                except NetlinkError as exc:
                    if address.version == 4:
                        raise
                    LOG.warning("cannot add %s to %s (%s): without IPv6 router advertisements "
                                "iPXE waits 13 s more per boot", address, name,
                                os.strerror(exc.code))
                    continue
                if str(address) not in record["addresses"]:
                    record["addresses"].append(str(address))
                    write_atomic(record_path, json.dumps(record))
            ipr.link("set", index=index, state="up")
    except NetlinkError as exc:
        raise BridgeError(f"cannot set up the provisioning bridge {name}: "
                          f"{os.strerror(exc.code)}") from None


def remove(record_path: str) -> None:
    """Undo what ensure() recorded: delete the bridge we made, or the addresses we added."""
    record = _record(record_path)
    name = record.get("name")
    if not name:
        return
    try:
        with IPRoute() as ipr:
            found = ipr.link_lookup(ifname=name)
            if found and found[0] != record.get("index"):
                found = []     # another device has the name now; none of it is ours
            if found and record.get("made"):
                LOG.info("removing the provisioning bridge %s", name)
                ipr.link("del", index=found[0])
            elif found:
                present = _addresses(ipr, found[0])
                for text in record.get("addresses", []):
                    if text in present:
                        address = ipaddress.ip_interface(text)
                        LOG.info("removing %s from %s", address, name)
                        ipr.addr("del", index=found[0], address=str(address.ip),
                                 prefixlen=address.network.prefixlen)
    except NetlinkError as exc:
        if exc.code != ENODEV:
            raise BridgeError(f"cannot remove the provisioning bridge {name}: "
                              f"{os.strerror(exc.code)}") from None
    os.unlink(record_path)
