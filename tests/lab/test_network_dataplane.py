"""The network data plane on real kernel objects: the agent applies hand-written host states
(what the network server would send) and namespace "guests" use the result as VMs would:
DHCP leases, pings across a VXLAN network and through a router, SNAT and floating IPs from an
"outside" namespace on a test-made external bridge, security groups, the metadata proxy,
and nothing left behind. Root only; every name carries a random suffix."""
import hashlib
import hmac
import json
import logging
import os
import random
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fixtures.network_lab import (
    FakeNetworkServer,
    Guest,
    HostState,
    Namespace,
    listen_in,
    run,
    serve_once,
    suffix,
)
from tests.fixtures.ports import free_port
from tests.fixtures.processes import wait_for
from undercloud.bus import Broker, BusError
from undercloud.common import config as configuration
from undercloud.common import secrets
from undercloud.common.files import write_secret
from undercloud.network import devices
from undercloud.network.agent import NetworkAgent
from undercloud.network.drivers import cleanup, iptables, namespaces
from undercloud.network.drivers.dataplane import top_chain
from undercloud.network.rpcapi import AgentAPI

pytestmark = pytest.mark.lab
TOOLS = ["dnsmasq", "busybox", "iptables-restore", "ip6tables-restore", "ip"]
ALLOW_EGRESS = [{"id": "egress-v4", "direction": "egress", "ethertype": "IPv4",
                 "protocol": None, "port_range_min": None, "port_range_max": None,
                 "remote_ip_prefix": None, "remote_group_id": None}]


def rule(rule_id, protocol="icmp", remote_group_id=None, port=None):
    return {"id": rule_id, "direction": "ingress", "ethertype": "IPv4", "protocol": protocol,
            "port_range_min": port, "port_range_max": port, "remote_ip_prefix": None,
            "remote_group_id": remote_group_id}


def subnet(third: int | None = None) -> str:
    """A random tenant /24, so parallel labs never share one."""
    return f"10.{random.randrange(1, 250)}.{third or random.randrange(1, 250)}.0/24"


def address(cidr: str, host: int) -> str:
    return cidr.rsplit(".", 1)[0] + f".{host}"


class Lab:
    def __init__(self):
        self.suffix = suffix()
        self.folder = tempfile.mkdtemp(prefix="stackbox-netlab-", dir="/var/tmp")
        os.chmod(self.folder, 0o755)
        self.external_bridge = f"sbxt{self.suffix}ex"
        run("ip", "link", "add", self.external_bridge, "type", "bridge")
        run("ip", "link", "set", self.external_bridge, "up")
        self.metadata_port = free_port()
        self.config = configuration.load(environ={}, overrides={
            "data_dir": self.folder, "bind": "127.0.0.1",
            "ports": {"metadata": self.metadata_port}, "bus": {"port": free_port()},
            "network": {"host": f"lab-{self.suffix}", "report_interval": 1,
                        "physical_mappings": {"external": self.external_bridge}}})
        write_secret(secrets.metadata_secret_file(self.config), "lab-metadata-secret")
        self.state = HostState(self.config["network"]["host"],
                               {"external": self.external_bridge})
        self.server = FakeNetworkServer(self.state)
        self.agent = NetworkAgent(self.config, server=self.server)
        self.test_namespaces: list[Namespace] = []

    def reconcile(self):
        self.agent.reconcile()
        assert not self.agent.outcome.failed, self.agent.outcome.failed

    def guest(self, name: str, port: dict) -> Guest:
        guest = Guest(f"sbxt-{self.suffix}-{name}", port, self.folder)
        self.test_namespaces.append(guest)
        return guest

    def outside(self, cidr_address: str) -> Namespace:
        """The world beyond the external network: a namespace on the external bridge."""
        outside = Namespace(f"sbxt-{self.suffix}-out", f"sbxt{self.suffix}out",
                            self.external_bridge)
        outside.configure(cidr_address)
        self.test_namespaces.append(outside)
        return outside

    def leftovers(self) -> list[str]:
        """Whatever of this lab's agent is still on the host."""
        found = []
        ours = {devices.dhcp_namespace(n["id"]) for n in self.state.networks}
        ours |= {devices.router_namespace(r["id"]) for r in self.state.routers}
        found += sorted(ours & namespaces.names())
        links = run("ip", "-o", "link").stdout
        names = {devices.bridge(n["id"]) for n in self.state.networks
                 if n["network_type"] == "vxlan"}
        names |= {devices.vxlan(n["segmentation_id"]) for n in self.state.networks
                  if n["segmentation_id"]}
        names |= {d["port"]["tap"] for d in self.state.dhcp}
        names |= {i["tap"] for r in self.state.routers for i in r["interfaces"]}
        names |= {r["gateway"]["tap"] for r in self.state.routers if r["gateway"]}
        found += sorted(name for name in names if f" {name}:" in links or f" {name}@" in links)
        for version in (4, 6):
            saved = iptables.save(version)
            found += [f"ipv{version} {line}" for line in saved.splitlines()
                      if top_chain(self.config) in line or
                      any(p["id"][:11] in line for p in self.state.ports)]
        found += [f"dnsmasq pid {pid}" for pid in dnsmasq_pids(self.folder)]
        return found

    def close(self):
        try:
            self.agent.teardown()
        finally:
            for namespace in self.test_namespaces:
                namespace.remove()
            run("ip", "link", "del", self.external_bridge, check=False)
            if not os.environ.get("STACKBOX_KEEP_LAB"):
                shutil.rmtree(self.folder, ignore_errors=True)


def dnsmasq_pids(folder: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as stream:
                    command = stream.read().decode(errors="replace")
            except OSError:
                continue
            if "dnsmasq" in command and folder in command:
                pids.append(int(entry))
    return pids


@pytest.fixture
def lab():
    if os.geteuid() != 0:
        pytest.skip("the network lab makes bridges and namespaces: root only")
    missing = [tool for tool in TOOLS if shutil.which(tool, path=os.environ.get("PATH", "")
                                                       + ":/usr/sbin:/sbin") is None]
    assert not missing, f"missing {', '.join(missing)}: scripts/install should provide them"
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


def test_guests_on_a_vxlan_network_get_their_leases_and_ping_each_other(lab, caplog):
    cidr = subnet()
    network = lab.state.network(cidr, dns_nameservers=[address(cidr, 53)], host_routes=[
        {"destination": "192.168.77.0/24", "nexthop": address(cidr, 254)}])
    lab.state.security_group("default", ALLOW_EGRESS + [
        rule("icmp-from-members", remote_group_id="default")])
    ports = [lab.state.guest_port(network, address(cidr, 11 + i), groups=["default"],
                                  hostname=f"vm-{i}") for i in range(2)]
    lab.reconcile()
    guests = [lab.guest(f"g{i}", port) for i, port in enumerate(ports)]

    leases = [guest.dhcp() for guest in guests]
    gateway = address(cidr, 1)
    assert leases[0] == {"ip": address(cidr, 11), "mask": "24", "router": gateway,
                         "dns": address(cidr, 53), "mtu": "1450",
                         "staticroutes": f"192.168.77.0/24 {address(cidr, 254)} "
                                         f"0.0.0.0/0 {gateway}",
                         "domain": "openstacklocal", "hostname": "vm-0"}
    assert leases[1]["ip"] == address(cidr, 12)
    assert wait_for(lambda: guests[0].ping(guests[1].address), 10)
    assert {lab.server.status_of(port["id"]) for port in ports} == {"ACTIVE"}

    # A second pass with the same state changes nothing.
    before = (run("ip", "-o", "link").stdout, sorted(namespaces.names()),
              dnsmasq_pids(lab.folder))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="undercloud.network"):
        lab.reconcile()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert (run("ip", "-o", "link").stdout, sorted(namespaces.names()),
            dnsmasq_pids(lab.folder)) == before


def test_a_router_routes_between_networks_snats_and_serves_a_floating_ip(lab):
    outside_net = f"172.30.{random.randrange(1, 250)}.0/24"
    external = lab.state.network(outside_net, dhcp=False, physical_network="external")
    cidr_a, cidr_b = subnet(), subnet()
    net_a = lab.state.network(cidr_a, dhcp=False)
    net_b = lab.state.network(cidr_b, dhcp=False)
    lab.state.security_group("web", ALLOW_EGRESS + [rule("icmp"),
                                                    rule("web", "tcp", port=8080)])
    port_a = lab.state.guest_port(net_a, address(cidr_a, 11), groups=["web"])
    port_b = lab.state.guest_port(net_b, address(cidr_b, 11), groups=["web"])
    gateway_ip, floating_ip = address(outside_net, 5), address(outside_net, 10)
    lab.state.router([(net_a, address(cidr_a, 1)), (net_b, address(cidr_b, 1))],
                     gateway=(external, gateway_ip), floating_ips=[(floating_ip, port_a)])
    lab.reconcile()
    guest_a, guest_b = lab.guest("a", port_a), lab.guest("b", port_b)
    guest_a.configure(f"{guest_a.address}/24", address(cidr_a, 1))
    guest_b.configure(f"{guest_b.address}/24", address(cidr_b, 1))
    outside = lab.outside(f"{address(outside_net, 1)}/24")

    assert wait_for(lambda: guest_a.ping(guest_b.address), 10), "no route between networks"

    # Leaving by the gateway: B (no floating IP) as the router, A as its floating IP.
    receiver = listen_in(outside, 7777, socket.SOCK_DGRAM)
    for guest, source in ((guest_b, gateway_ip), (guest_a, floating_ip)):
        sender = guest.socket()
        sender.sendto(b"hello", (address(outside_net, 1), 7777))
        sender.close()
        assert receiver.recvfrom(100)[1][0] == source
    receiver.close()

    # Coming in to the floating IP reaches guest A itself.
    assert wait_for(lambda: outside.ping(floating_ip), 10)
    listener = listen_in(guest_a, 8080)
    serve_once(listener, b"guest-a")
    client = outside.socket(socket.SOCK_STREAM)
    client.settimeout(10)
    client.connect((floating_ip, 8080))
    assert client.recv(100) == b"guest-a"
    client.close()
    listener.close()

    # Without the ICMP rule the floating IP's ping stops at guest A's port.
    lab.state.security_groups["web"]["rules"] = ALLOW_EGRESS + [rule("web", "tcp", port=8080)]
    lab.reconcile()
    assert not outside.ping(floating_ip)


def test_security_groups_deny_ingress_by_default_and_admit_what_rules_allow(lab):
    cidr = subnet()
    network = lab.state.network(cidr, dhcp=False)
    lab.state.security_group("members", ALLOW_EGRESS)
    lab.state.security_group("others", ALLOW_EGRESS)
    ports = [lab.state.guest_port(network, address(cidr, 11), groups=["members"]),
             lab.state.guest_port(network, address(cidr, 12), groups=["members"]),
             lab.state.guest_port(network, address(cidr, 13), groups=["others"])]
    lab.reconcile()
    member, target, stranger = [lab.guest(name, port) for name, port in
                                zip(("member", "target", "stranger"), ports)]
    for guest in (member, target, stranger):
        guest.configure(f"{guest.address}/24")

    assert not member.ping(target.address), "ingress must be denied by default"

    lab.state.security_groups["members"]["rules"] = ALLOW_EGRESS + [rule("icmp")]
    lab.reconcile()
    assert wait_for(lambda: member.ping(target.address), 10)
    assert stranger.ping(target.address)

    lab.state.security_groups["members"]["rules"] = ALLOW_EGRESS + [
        rule("icmp-from-members", remote_group_id="members")]
    lab.reconcile()
    assert member.ping(target.address)
    assert not stranger.ping(target.address), "only the group's members may ping"

    # A guest sending from an address that is not its port's is dropped.
    member.exec("ip", "addr", "add", f"{address(cidr, 99)}/24", "dev", "eth0")
    assert not member.exec("busybox", "ping", "-c", "1", "-W", "1", "-I", address(cidr, 99),
                           target.address, check=False).returncode == 0

    lab.state.security_groups["members"]["rules"] = ALLOW_EGRESS
    lab.reconcile()
    assert not member.ping(target.address), "removing the rule must stop the ping"


def test_removing_a_rule_cuts_the_connections_it_allowed(lab):
    cidr = subnet()
    network = lab.state.network(cidr, dhcp=False)
    lab.state.security_group("default", ALLOW_EGRESS + [rule("udp", "udp", port=5000)])
    ports = [lab.state.guest_port(network, address(cidr, 11 + i), groups=["default"])
             for i in range(2)]
    lab.reconcile()
    client, server = [lab.guest(name, port) for name, port in zip(("client", "server"), ports)]
    for guest in (client, server):
        guest.configure(f"{guest.address}/24")
    listener = listen_in(server, 5000, socket.SOCK_DGRAM)
    sender = client.socket()
    sender.settimeout(10)
    sender.sendto(b"one", (server.address, 5000))
    _, peer = listener.recvfrom(100)
    listener.sendto(b"ack", peer)
    assert sender.recv(100) == b"ack"   # a tracked, established flow

    lab.state.security_groups["default"]["rules"] = ALLOW_EGRESS
    lab.reconcile()
    sender.sendto(b"two", (server.address, 5000))
    listener.settimeout(2)
    with pytest.raises(socket.timeout):
        listener.recvfrom(100)
    sender.close()
    listener.close()


class MetadataAPI(BaseHTTPRequestHandler):
    """Compute's metadata API as the proxy meets it: it records what reached it."""
    received: list = []

    def do_GET(self):
        type(self).received.append((self.path, dict(self.headers)))
        body = json.dumps({"uuid": self.headers.get("X-Instance-ID")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def test_guests_reach_the_metadata_api_through_their_router(lab):
    cidr = subnet()
    network = lab.state.network(cidr, dhcp=False)
    lab.state.security_group("default", ALLOW_EGRESS)
    known = lab.state.guest_port(network, address(cidr, 11), groups=["default"])
    unknown = lab.state.guest_port(network, address(cidr, 12), groups=["default"])
    router = lab.state.router([(network, address(cidr, 1))])
    lab.server.instances[address(cidr, 11)] = {"instance_id": "instance-1",
                                               "project_id": "project-1"}
    MetadataAPI.received = []
    api = ThreadingHTTPServer(("127.0.0.1", lab.metadata_port), MetadataAPI)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        lab.reconcile()
        guests = [lab.guest(name, port) for name, port in (("known", known),
                                                             ("unknown", unknown))]
        for guest in guests:
            guest.configure(f"{guest.address}/24", address(cidr, 1))
        url = "http://169.254.169.254/openstack/latest/meta_data.json"

        answer = guests[0].exec("busybox", "wget", "-q", "-O", "-", url, check=False)
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout) == {"uuid": "instance-1"}
        path, headers = MetadataAPI.received[0]
        assert path == "/openstack/latest/meta_data.json"
        assert headers["X-Instance-ID"] == "instance-1"
        assert headers["X-Tenant-ID"] == "project-1"
        assert headers["X-Forwarded-For"] == address(cidr, 11)
        assert headers["X-Instance-ID-Signature"] == hmac.new(
            b"lab-metadata-secret", b"instance-1", hashlib.sha256).hexdigest()
        assert lab.server.lookups == [(address(cidr, 11), router["id"])]

        refused = guests[1].exec("busybox", "wget", "-q", "-O", "-", url, check=False)
        assert refused.returncode != 0 and "404" in refused.stderr
        assert len(MetadataAPI.received) == 1
    finally:
        api.shutdown()
        api.server_close()


def _everything(lab):
    """A network with DHCP and a guest, behind a router with a gateway and a floating IP."""
    outside_net = f"172.30.{random.randrange(1, 250)}.0/24"
    external = lab.state.network(outside_net, dhcp=False, physical_network="external")
    cidr = subnet()
    network = lab.state.network(cidr)
    lab.state.security_group("default", ALLOW_EGRESS + [rule("icmp")])
    port = lab.state.guest_port(network, address(cidr, 11), groups=["default"])
    lab.state.router([(network, address(cidr, 1))], gateway=(external, address(outside_net, 5)),
                     floating_ips=[(address(outside_net, 10), port)])
    return port


def test_an_empty_state_and_a_stopped_agent_leave_nothing_behind(lab):
    port = _everything(lab)
    lab.reconcile()
    assert len(lab.leftovers()) >= 8, lab.leftovers()   # namespaces, devices, chains, dnsmasq

    lab.server.state = HostState(lab.state.host, {})
    lab.reconcile()
    assert lab.leftovers() == []
    assert lab.server.status_of(port["id"]) == "DOWN"

    # The agent process: over the bus it plugs ports and syncs; stopping it removes all.
    lab.server.state = lab.state
    broker = Broker(lab.config)
    threading.Thread(target=broker.run, daemon=True).start()
    assert broker.ready.wait(5)
    runner = threading.Thread(target=lab.agent.run, daemon=True)
    runner.start()
    try:
        agents = AgentAPI(lab.config)
        plugged = wait_for(lambda: _plug(agents, lab.state.host, port["id"]), 20)
        assert plugged == {"bridge": port["bridge"], "tap": port["tap"], "mtu": 1450}
        assert devices.router_namespace(lab.state.routers[0]["id"]) in namespaces.names()
        assert wait_for(lambda: lab.server.reports and lab.server.reports[-1]["routers"], 10)
    finally:
        lab.agent.stop()
        runner.join(20)
        broker.stop()
    assert not runner.is_alive()
    assert lab.leftovers() == []


def test_namespaces_deleted_behind_the_agents_back_are_rebuilt(lab):
    port = _everything(lab)
    lab.reconcile()
    dhcp_namespace = devices.dhcp_namespace(port["network_id"])
    router_namespace = devices.router_namespace(lab.state.routers[0]["id"])
    for namespace in (dhcp_namespace, router_namespace):
        run("ip", "netns", "delete", namespace)

    lab.reconcile()
    nat = run("ip", "netns", "exec", router_namespace, "iptables", "-t", "nat", "-S").stdout
    assert f"--to-destination {port['fixed_ips'][0]['ip_address']}" in nat
    assert len(dnsmasq_pids(lab.folder)) == 1
    assert lab.guest("g", port).dhcp()["ip"] == port["fixed_ips"][0]["ip_address"]


def test_what_a_crashed_agent_left_is_removed_before_the_next_start(lab):
    _everything(lab)
    lab.reconcile()
    lab.agent.proxy.close()   # its sockets die with the crashed process
    assert lab.leftovers()

    assert cleanup.remove_leftovers(lab.config) is True
    assert lab.leftovers() == []
    assert cleanup.remove_leftovers(lab.config) is False


def _plug(agents, host, port_id):
    try:
        return agents.plug_port(host, port_id)
    except BusError:
        return None   # the agent has not registered with the broker yet


def test_a_new_port_reloads_only_its_networks_dnsmasq_and_gets_its_lease(lab):
    cidr_a, cidr_b = subnet(), subnet()
    net_a, net_b = lab.state.network(cidr_a), lab.state.network(cidr_b)
    lab.state.security_group("default", ALLOW_EGRESS)
    first = lab.state.guest_port(net_a, address(cidr_a, 11), groups=["default"])
    lab.state.guest_port(net_b, address(cidr_b, 11), groups=["default"])
    lab.reconcile()
    folder_a, folder_b = (os.path.join(lab.folder, "network", "dhcp", n["id"])
                          for n in (net_a, net_b))
    pids = {folder: _pid(folder) for folder in (folder_a, folder_b)}
    stamp_b = os.stat(os.path.join(folder_b, "host")).st_mtime_ns
    assert lab.guest("first", first).dhcp()["ip"] == address(cidr_a, 11)

    second = lab.state.guest_port(net_a, address(cidr_a, 12), groups=["default"])
    lab.reconcile()
    assert {folder: _pid(folder) for folder in (folder_a, folder_b)} == pids
    assert os.stat(os.path.join(folder_b, "host")).st_mtime_ns == stamp_b
    assert lab.guest("second", second).dhcp()["ip"] == address(cidr_a, 12)
    with open(os.path.join(folder_a, "dnsmasq.log")) as log:
        assert log.read().count(f"read {folder_a}/host") == 2   # at start, then on SIGHUP


def test_an_address_given_to_a_new_port_is_leased_again(lab):
    cidr = subnet()
    network = lab.state.network(cidr)
    lab.state.security_group("default", ALLOW_EGRESS)
    old = lab.state.guest_port(network, address(cidr, 11), groups=["default"])
    lab.reconcile()
    old_guest = lab.guest("old", old)
    assert old_guest.dhcp()["ip"] == address(cidr, 11)
    old_guest.remove()

    # The port is deleted and its address goes to a new port (another MAC).
    lab.state.ports.remove(old)
    lab.state.dhcp[0]["hosts"].clear()
    new = lab.state.guest_port(network, address(cidr, 11), groups=["default"])
    lab.reconcile()
    assert lab.guest("new", new).dhcp()["ip"] == address(cidr, 11)


def _pid(folder):
    with open(os.path.join(folder, "pid")) as stream:
        return int(stream.read())


def test_vxlan_peers_follow_the_state(lab):
    network = lab.state.network(subnet(), dhcp=False)
    lab.state.networks[0]["vxlan_peers"] = ["127.0.0.1", "127.0.0.5", "127.0.0.6"]
    lab.reconcile()
    name = devices.vxlan(network["segmentation_id"])

    def peers():
        fdb = run("bridge", "fdb", "show", "dev", name).stdout
        return sorted(line.split("dst ")[1].split()[0] for line in fdb.splitlines()
                      if line.startswith("00:00:00:00:00:00"))
    assert peers() == ["127.0.0.5", "127.0.0.6"]   # never itself
    details = run("ip", "-d", "link", "show", name).stdout
    assert f"vxlan id {network['segmentation_id']} local 127.0.0.1" in details
    assert "dstport 4789" in details and "nolearning" in details

    lab.state.networks[0]["vxlan_peers"] = ["127.0.0.6"]
    lab.reconcile()
    assert peers() == ["127.0.0.6"]


def test_another_programs_vxlan_device_is_left_alone(lab):
    network = lab.state.network(subnet(), dhcp=False)
    name, theirs = devices.vxlan(network["segmentation_id"]), f"sbxt{lab.suffix}th"
    run("ip", "link", "add", theirs, "type", "bridge")
    try:
        run("ip", "link", "add", name, "type", "vxlan", "id", str(network["segmentation_id"]),
            "local", "127.0.0.1", "dstport", "4789", "nolearning")
        run("ip", "link", "set", name, "master", theirs)
        lab.reconcile()
        assert f"master {theirs} " in run("ip", "link", "show", name).stdout
        lab.agent.teardown()
        assert f"master {theirs} " in run("ip", "link", "show", name).stdout
    finally:
        run("ip", "link", "del", name, check=False)
        run("ip", "link", "del", theirs, check=False)
