"""Removing what a network agent left on this host when it could not clean up (a crash, a
SIGKILL): everything recorded under DATA_DIR/network. `stackbox serve` calls this at start,
before any agent runs, so a new start rebuilds from the DB on a clean host."""
import logging
import os

from undercloud.network.drivers.dataplane import DataPlane

LOG = logging.getLogger(__name__)


def remove_leftovers(config) -> bool:
    """Remove every namespace, device, chain and dnsmasq a previous agent with this data
    folder made; True when there was something to remove."""
    folder = config.path("network")
    ledger = os.path.join(folder, "ledger.json")
    dhcp = os.path.join(folder, "dhcp")
    if not os.path.exists(ledger) and not (os.path.isdir(dhcp) and os.listdir(dhcp)):
        return False
    dataplane = DataPlane(config)
    if dataplane.ledger.empty() and not (os.path.isdir(dhcp) and os.listdir(dhcp)):
        return False
    LOG.info("removing what the last network agent left on this host")
    dataplane.teardown()
    return True
