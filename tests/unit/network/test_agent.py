"""The network agent's own logic, with a stand-in server and data plane (no root): passes
coalesce, the server may be missing, ports are plugged, unplugged and reported."""
import logging
import threading

import pytest

from tests.fixtures.processes import wait_for
from undercloud.bus import NoPeer
from undercloud.common import config as configuration
from undercloud.network.agent import NetworkAgent, PortNotOnHost
from undercloud.network.drivers.dataplane import Outcome

NETWORK = {"id": "net-1", "network_type": "vxlan", "physical_network": None,
           "segmentation_id": 7, "mtu": 1450, "bridge": "brqnet-1", "vxlan_peers": []}


def guest(port_id, network_id="net-1"):
    return {"id": port_id, "network_id": network_id, "tap": f"tap{port_id}",
            "bridge": "brqnet-1", "mac_address": "fa:16:3e:00:00:01"}


class Server:
    def __init__(self):
        self.state = {"networks": [NETWORK], "ports": [guest("p1")], "dhcp": [], "routers": [],
                      "security_groups": {}}
        self.down = False
        self.statuses = []
        self.reports = []

    def host_state(self, host):
        if self.down:
            raise NoPeer("network-server")
        return self.state

    def set_port_status(self, port_ids, status):
        self.statuses.append((sorted(port_ids), status))

    def report_agent(self, host, modes, configurations):
        self.reports.append((host, modes, configurations))


class DataPlane:
    """Records each pass; a pass may be held open to let requests pile up."""

    def __init__(self, tunnel_ip):
        self.passes = []
        self.hold = threading.Event()
        self.hold.set()
        self.failing = set()
        self.tunnel_ip = tunnel_ip

    def apply(self, state, modes):
        self.hold.wait(10)
        self.passes.append(state)
        ports = {p["id"] for p in state["ports"] if p["network_id"] not in self.failing}
        return Outcome(wired_ports=ports, failed={n: "broken" for n in self.failing},
                       counts={"ports": len(ports), "networks": 1})

    def teardown(self):
        self.passes.append("teardown")


@pytest.fixture
def agent(tmp_path):
    config = configuration.load(environ={}, overrides={
        "data_dir": str(tmp_path),
        "network": {"host": "h1", "agent_modes": ["l2", "dhcp", "l3"],
                    "physical_mappings": {"external": "br-ex"}, "tunnel_ip": "192.0.2.7"}})
    agent = NetworkAgent(config, server=Server())
    agent.dataplane = DataPlane(agent.dataplane.tunnel_ip)
    return agent


def test_a_burst_of_syncs_while_a_pass_runs_makes_one_more_pass(agent):
    agent.dataplane.hold.clear()
    loop = threading.Thread(target=agent._loop, daemon=True)
    loop.start()
    try:
        assert wait_for(lambda: agent._requested == 1 and agent._pass_lock.locked(), 5)
        for _ in range(20):
            agent.sync()
        agent.dataplane.hold.set()
        assert wait_for(lambda: agent._done == 21, 5)
        assert len(agent.dataplane.passes) == 2
    finally:
        agent.stop()
        loop.join(5)


def test_the_agent_waits_for_the_server_and_says_so_once(agent, caplog):
    agent.server.down = True
    with caplog.at_level(logging.INFO, logger="undercloud.network.agent"):
        for _ in range(3):
            with pytest.raises(NoPeer):
                agent.reconcile()
        agent.server.down = False
        agent.reconcile()
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "unreachable" in m]) == 1
    assert "network server reachable again" in messages
    assert agent.dataplane.passes == [agent.server.state]


def test_plug_port_wires_it_and_says_where(agent):
    assert agent.plug_port("p1") == {"bridge": "brqnet-1", "tap": "tapp1", "mtu": 1450}
    assert agent.server.statuses == [(["p1"], "ACTIVE")]
    with pytest.raises(PortNotOnHost, match="port p9 is not bound to host h1"):
        agent.plug_port("p9")
    agent.dataplane.failing.add("net-1")
    with pytest.raises(RuntimeError, match="network net-1 could not be wired on h1: broken"):
        agent.plug_port("p1")


def test_ports_are_reported_active_once_and_down_when_unplugged(agent):
    agent.reconcile()
    agent.reconcile()
    assert agent.server.statuses == [(["p1"], "ACTIVE")]
    agent.unplug_port("p1")
    assert agent.dataplane.passes[-1]["ports"] == []
    assert agent.server.statuses[-1] == (["p1"], "DOWN")
    # Plugged again (a rebuild), it is wired again.
    agent.plug_port("p1")
    assert agent.server.statuses[-1] == (["p1"], "ACTIVE")


def test_the_heartbeat_tells_the_server_the_mappings_and_tunnel(agent):
    agent.reconcile()
    agent.report()
    host, modes, configurations = agent.server.reports[-1]
    assert (host, modes) == ("h1", ["l2", "dhcp", "l3"])
    assert configurations["physical_mappings"] == {"external": "br-ex"}
    assert configurations["tunnel_ip"] == "192.0.2.7"
    assert configurations["devices"] == 1 and configurations["metadata_port"] is None
