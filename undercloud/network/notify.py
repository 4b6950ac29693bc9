"""After the API changes the network, tell whoever acts on it: the agents and compute.

Called after the change is committed. Casts are fire-and-forget: a lost one is caught by the
agents' and the conductor's periodic reconciliation.
"""
import logging

from flask import current_app

from undercloud.network.rpcapi import AgentAPI

LOG = logging.getLogger(__name__)
CONDUCTOR_TOPIC = "conductor"   # compute's conductor (undercloud.compute.rpcapi)
_AGENTS: dict = {}


def _agents() -> AgentAPI:
    config = current_app.config["STACKBOX"]
    if id(config) not in _AGENTS:
        _AGENTS[id(config)] = AgentAPI(config)
    return _AGENTS[id(config)]


def changed(instance_ids=()) -> None:
    """The data plane must follow; instances whose addresses changed refresh them."""
    agents = _agents()
    try:
        agents.sync()
        for instance_id in {i for i in instance_ids if i}:
            # Nova's "network-changed" event: the conductor re-reads the instance's VIFs.
            agents.client.cast(CONDUCTOR_TOPIC, "network_changed", instance_id=instance_id)
    except Exception:  # the bus is down: reconciliation catches up
        LOG.warning("could not tell the agents about a network change; they will reconcile",
                    exc_info=True)
