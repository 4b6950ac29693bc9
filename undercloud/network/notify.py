"""After the API changes the network, tell whoever acts on it: the agents and compute.

Called after the change is committed. Casts are fire-and-forget: a lost one is caught by the
agents' and the conductor's periodic reconciliation.
"""
import logging

from flask import current_app

from undercloud.compute.rpcapi import ConductorAPI
from undercloud.network.rpcapi import AgentAPI

LOG = logging.getLogger(__name__)
_CLIENTS: dict = {}   # id(config) -> (AgentAPI, ConductorAPI), sharing one bus client


def _clients() -> tuple[AgentAPI, ConductorAPI]:
    config = current_app.config["STACKBOX"]
    if id(config) not in _CLIENTS:
        agents = AgentAPI(config)
        _CLIENTS[id(config)] = agents, ConductorAPI(config, agents.client)
    return _CLIENTS[id(config)]


def changed(instance_ids=()) -> None:
    """The data plane must follow; instances whose addresses changed refresh them."""
    agents, conductor = _clients()
    try:
        agents.sync()
        for instance_id in {i for i in instance_ids if i}:
            conductor.network_changed(instance_id)
    except Exception:  # the bus is down: reconciliation catches up
        LOG.warning("could not tell the agents and the conductor about a network change; "
                    "they will reconcile", exc_info=True)
