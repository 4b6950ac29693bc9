"""Every start: clear what a network agent of this data folder left when serve died hard.

Runs before any agent starts, so nothing it removes is in use; the agent rebuilds the data
plane from the DB on its first pass.
"""
import logging
import os

from undercloud.network.drivers import cleanup

LOG = logging.getLogger(__name__)


def bootstrap(config):
    if not config["network"]["agent_modes"] or os.geteuid() != 0:
        return  # no data plane here, or none this user could have made
    try:
        if cleanup.remove_leftovers(config):
            LOG.warning("removed the network data plane a stopped stackbox left behind")
    except Exception:  # the agent's own passes retry whatever is left
        LOG.exception("could not remove the last network agent's leftovers")
