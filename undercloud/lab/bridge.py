"""The provisioning bridge the lab's VMs plug into. The lab makes it, without an address,
only when it is missing (the undercloud's conductor gives it its address), and removes only
a bridge it made."""
import logging

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

LOG = logging.getLogger(__name__)


class BridgeError(Exception):
    """The bridge cannot be made or removed; the message names it."""


def _index(ipr, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return found[0] if found else None


def ensure(name: str) -> bool:
    """Make the bridge (up, no address) if missing; True when this call made it."""
    with IPRoute() as ipr:
        index = _index(ipr, name)
        made = index is None
        try:
            if made:
                ipr.link("add", ifname=name, kind="bridge")
                index = _index(ipr, name)
            ipr.link("set", index=index, state="up")
        except NetlinkError as exc:
            raise BridgeError(f"cannot {'make' if made else 'bring up'} bridge {name}: "
                              f"{exc}") from None
    if made:
        LOG.info("made the provisioning bridge %s", name)
    return made


def remove(name: str) -> None:
    """Delete the bridge; already gone is fine."""
    with IPRoute() as ipr:
        index = _index(ipr, name)
        if index is None:
            return
        try:
            ipr.link("del", index=index)
        except NetlinkError as exc:
            raise BridgeError(f"cannot remove bridge {name}: {exc}") from None
    LOG.info("removed the provisioning bridge %s", name)


def exists(name: str) -> bool:
    with IPRoute() as ipr:
        return _index(ipr, name) is not None
