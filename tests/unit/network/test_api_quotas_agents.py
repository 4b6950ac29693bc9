"""Quotas, agents, availability zones, extensions and the version documents."""
import datetime

import pytest

from undercloud import db
from undercloud.network.models import Agent


@pytest.fixture
def network_config():
    return {"quota_network": 2, "quota_port": -1, "agent_down_time": 60}


def test_the_quota_stops_the_next_network_with_409(alice):
    alice.network()
    alice.network()
    response = alice.post("/v2.0/networks", json={"network": {}})
    assert response.status_code == 409
    assert response.get_json()["NeutronError"] == {
        "type": "OverQuota", "detail": "",
        "message": "Quota exceeded for resources: ['network']."}


def test_admin_sets_shows_and_resets_a_projects_quota(alice, admin):
    assert alice.get("/v2.0/quotas/p-alice").get_json()["quota"]["network"] == 2
    assert alice.get("/v2.0/quotas/p-bob").status_code == 403
    assert alice.put("/v2.0/quotas/p-alice", json={"quota": {"network": 5}}).status_code == 403
    updated = admin.put("/v2.0/quotas/p-alice", json={"quota": {"network": 5, "port": 10}})
    assert updated.get_json()["quota"]["network"] == 5
    assert admin.get("/v2.0/quotas").get_json()["quotas"][0]["project_id"] == "p-alice"
    alice.network()
    details = alice.get("/v2.0/quotas/p-alice/details").get_json()["quota"]
    assert details["network"] == {"limit": 5, "used": 1, "reserved": 0}
    assert details["port"]["limit"] == 10
    assert alice.get("/v2.0/quotas/p-alice/default").get_json()["quota"]["network"] == 2
    assert admin.put("/v2.0/quotas/p-alice",
                     json={"quota": {"network": -2}}).status_code == 400
    assert admin.put("/v2.0/quotas/p-alice",
                     json={"quota": {"spaceships": 1}}).status_code == 400
    assert admin.delete("/v2.0/quotas/p-alice").status_code == 204
    assert alice.get("/v2.0/quotas/p-alice").get_json()["quota"]["network"] == 2
    assert alice.get("/v2.0/quotas").status_code == 403


def _agent(agent_type, host, seconds_ago, zone="nova"):
    moment = db.utcnow() - datetime.timedelta(seconds=seconds_ago)
    with db.transaction():
        return Agent.create(agent_type=agent_type, binary="stackbox-network-agent", host=host,
                            topic="network", availability_zone=zone, started_at=moment,
                            heartbeat_timestamp=moment)


def test_agents_are_admin_only_and_alive_by_heartbeat(alice, admin):
    fresh = _agent("DHCP agent", "host1", 5)
    _agent("L3 agent", "host1", 600)
    assert alice.get("/v2.0/agents").get_json() == {"agents": []}
    assert alice.get(f"/v2.0/agents/{fresh.id}").status_code == 404
    agents = admin.get("/v2.0/agents?sort_key=agent_type&sort_dir=asc").get_json()["agents"]
    assert [(a["agent_type"], a["alive"]) for a in agents] == [("DHCP agent", True),
                                                               ("L3 agent", False)]
    assert [a["agent_type"] for a in admin.get("/v2.0/agents?alive=true").get_json()[
        "agents"]] == ["DHCP agent"]
    updated = admin.put(f"/v2.0/agents/{fresh.id}",
                        json={"agent": {"admin_state_up": False, "description": "x"}})
    assert updated.get_json()["agent"]["admin_state_up"] is False
    assert admin.put(f"/v2.0/agents/{fresh.id}",
                     json={"agent": {"host": "elsewhere"}}).status_code == 400
    assert admin.delete(f"/v2.0/agents/{fresh.id}").status_code == 204


def test_zones_come_from_agents(alice):
    _agent("DHCP agent", "host1", 5)
    _agent("L3 agent", "host1", 600)
    zones = alice.get("/v2.0/availability_zones").get_json()["availability_zones"]
    assert zones == [{"name": "nova", "resource": "network", "state": "available"},
                     {"name": "nova", "resource": "router", "state": "unavailable"}]
    assert alice.get("/v2.0/availability_zones?resource=router").get_json()[
        "availability_zones"][0]["resource"] == "router"


def test_extensions_list_and_show(alice):
    aliases = {e["alias"] for e in alice.get("/v2.0/extensions").get_json()["extensions"]}
    assert {"router", "external-net", "security-group", "quotas", "port-security",
            "allowed-address-pairs", "binding", "extra_dhcp_opt", "subnet_allocation",
            "agent", "availability_zone", "standard-attr-tag", "standard-attr-description",
            "project-id", "provider", "net-mtu"} <= aliases
    assert alice.get("/v2.0/extensions/router").get_json()["extension"]["alias"] == "router"
    assert alice.get("/v2.0/extensions/lbaas").status_code == 404


def test_version_documents_need_no_token(client):
    versions = client.get("/").get_json()["versions"]
    assert [(v["id"], v["status"]) for v in versions] == [("v2.0", "CURRENT")]
    assert versions[0]["links"][0]["href"].endswith("/v2.0/")
    resources = {r["name"] for r in client.get("/v2.0").get_json()["resources"]}
    assert {"network", "subnet", "port"} <= resources
    assert client.get("/v2.0/networks").status_code == 401
