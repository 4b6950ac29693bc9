"""/v2.0/availability_zones: the zones of the agents (DHCP serves networks, L3 routers)."""
from flask import Blueprint, request

from undercloud.common.errors import BadRequest
from undercloud.network import views
from undercloud.network.models import Agent
from undercloud.network.routes import agents, config

blueprint = Blueprint("availability_zones", __name__)

DEFAULT_ZONE = "nova"
RESOURCES = {"DHCP agent": "network", "L3 agent": "router"}
ATTRIBUTES = ("name", "resource", "state")


def known() -> set[str]:
    """Zone names a network or router may hint at."""
    query = Agent.select(Agent.availability_zone).where(Agent.availability_zone.is_null(False))
    return {DEFAULT_ZONE, *(row.availability_zone for row in query)}


def zones() -> list[dict]:
    """One entry per (zone, resource): available while an agent there is alive and enabled."""
    states: dict[tuple, bool] = {}
    for agent in Agent.select().where(Agent.agent_type.in_(list(RESOURCES))):
        key = (agent.availability_zone or DEFAULT_ZONE, RESOURCES[agent.agent_type])
        states[key] = states.get(key, False) or (agents.alive(agent, config())
                                                 and agent.admin_state_up)
    return [{"name": name, "resource": resource, "state": "available" if up else "unavailable"}
            for (name, resource), up in sorted(states.items())]


@blueprint.get("/v2.0/availability_zones")
def list_zones():
    unknown = [name for name in request.args if name not in (*ATTRIBUTES, "fields")]
    if unknown:
        raise BadRequest(f"{unknown} is invalid attribute for filtering")
    entries = zones()
    for name in ATTRIBUTES:
        wanted = [value for value in request.args.getlist(name) if value]
        if wanted:
            entries = [entry for entry in entries if entry[name] in wanted]
    fields = views.requested_fields()
    return views.respond({"availability_zones": [views.only(entry, fields)
                                                 for entry in entries]})
