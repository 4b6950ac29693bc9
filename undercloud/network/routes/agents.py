"""/v2.0/agents: the data-plane agents the network server records (admin only).

An agent is alive while its last heartbeat is younger than network.agent_down_time.
"""
import datetime

from flask import Blueprint

from undercloud import db
from undercloud.network import attributes, faults, listing, policy, views
from undercloud.network.attributes import Attribute, boolean, string
from undercloud.network.models import Agent
from undercloud.network.routes import config

blueprint = Blueprint("agents", __name__)

AGENT = {"admin_state_up": Attribute(post=False, check=boolean),
         "description": Attribute(post=False, check=string())}


def _since_alive(config_) -> datetime.datetime:
    return db.utcnow() - datetime.timedelta(seconds=config_["network"]["agent_down_time"])


def alive(agent: Agent, config_) -> bool:
    return agent.heartbeat_timestamp >= _since_alive(config_)


def _agent_time(moment) -> str:
    # Neutron shows agents' times without the T and Z.
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def render(rows: list) -> list[dict]:
    return [{"id": agent.id, "agent_type": agent.agent_type, "binary": agent.binary,
             "host": agent.host, "topic": agent.topic, "admin_state_up": agent.admin_state_up,
             "alive": alive(agent, config()), "availability_zone": agent.availability_zone,
             "configurations": agent.configurations, "description": agent.description,
             "created_at": _agent_time(agent.created_at),
             "started_at": _agent_time(agent.started_at),
             "heartbeat_timestamp": _agent_time(agent.heartbeat_timestamp),
             "resources_synced": None, "ha_state": None} for agent in rows]


def _alive_filter(values):
    wanted = {listing.to_boolean(value) for value in values}
    fresh = Agent.heartbeat_timestamp >= _since_alive(config())
    if wanted == {True}:
        return fresh
    if wanted == {False}:
        return ~fresh
    return Agent.id.is_null(False)


AGENTS = listing.Collection(Agent, "agents", tagged=False, filters={
    "id": listing.exact(Agent.id), "agent_type": listing.exact(Agent.agent_type),
    "binary": listing.exact(Agent.binary), "host": listing.exact(Agent.host),
    "topic": listing.exact(Agent.topic), "admin_state_up": listing.boolean(Agent.admin_state_up),
    "availability_zone": listing.exact(Agent.availability_zone),
    "description": listing.exact(Agent.description), "alive": _alive_filter,
}, sort_keys={"id": Agent.id, "agent_type": Agent.agent_type, "binary": Agent.binary,
              "host": Agent.host, "topic": Agent.topic, "admin_state_up": Agent.admin_state_up,
              "availability_zone": Agent.availability_zone,
              "heartbeat_timestamp": Agent.heartbeat_timestamp,
              "created_at": Agent.created_at, "started_at": Agent.started_at})


def _find(agent_id: str) -> Agent:
    agent = Agent.get_or_none(Agent.id == agent_id)
    if agent is None:
        raise faults.not_found("Agent", agent_id)
    return agent


def _admin_only(action: str, agent_id: str):
    # As Neutron: an agent the caller may not see does not exist for them.
    if not policy.allowed(action):
        raise faults.not_found("Agent", agent_id)


@blueprint.get("/v2.0/agents")
def list_agents():
    query = Agent.select()
    if not policy.allowed("get_agent"):
        query = query.where(Agent.id.is_null())   # nothing: non-admins see no agents
    return listing.respond(AGENTS, query, render)


@blueprint.get("/v2.0/agents/<agent_id>")
def show_agent(agent_id):
    _admin_only("get_agent", agent_id)
    return views.show("agent", render([_find(agent_id)])[0])


@blueprint.put("/v2.0/agents/<agent_id>")
def update_agent(agent_id):
    _admin_only("update_agent", agent_id)
    agent = _find(agent_id)
    values = attributes.parse("agent", AGENT, attributes.body("agent"), creating=False)
    with db.transaction():
        for name, value in values.items():
            setattr(agent, name, value)
        agent.save()
    return views.show("agent", render([agent])[0])


@blueprint.delete("/v2.0/agents/<agent_id>")
def delete_agent(agent_id):
    _admin_only("delete_agent", agent_id)
    agent = _find(agent_id)
    with db.transaction():
        agent.delete_instance()
    return views.no_content()
