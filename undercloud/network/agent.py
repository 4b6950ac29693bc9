"""The network agent: one per host (root), on topics ``network.<host>`` and ``network-agent``.

It holds no DB credentials: the network server says what this host should run
(ServerAPI.host_state) and the agent makes the kernel match (drivers/dataplane.py), at start,
on every ``sync`` cast and every reconcile_interval. Casts come in bursts, so passes are
coalesced: one runs, and at most one more is pending for whatever arrived meanwhile. Stopping
the agent removes everything it made on the host; the next start rebuilds it.
"""
import logging
import os
import socket
import threading
import time

from undercloud.bus import BusError, RpcServer, remotable, remote
from undercloud.common.manager import Manager
from undercloud.network.drivers.dataplane import DataPlane
from undercloud.network.drivers.metadata_proxy import MetadataProxy
from undercloud.network.rpcapi import AGENTS_TOPIC, ServerAPI, agent_topic

LOG = logging.getLogger(__name__)
FIRST_BACKOFF = 1.0
# How long a stop waits for a pass in flight before tearing down around it.
STOP_WAIT_SECONDS = 5.0


@remotable
class PortNotOnHost(Exception):
    """plug_port named a port the network server has not bound to this host."""


class NetworkAgent(Manager):
    service = "network"

    def __init__(self, config, host: str | None = None, server: ServerAPI | None = None):
        network = config["network"]
        super().__init__(config, host or network.get("host") or socket.gethostname())
        self.modes = list(network["agent_modes"])
        if self.modes and os.geteuid() != 0:
            # Namespaces, bridges and iptables need root: serve the API, wire nothing.
            LOG.warning("the network data plane needs root; this agent wires nothing")
            self.modes = []
        self.server = server or ServerAPI(config)
        self.report_interval = network.get("report_interval", 10)
        self.reconcile_interval = network.get("reconcile_interval", 30)
        self.proxy = MetadataProxy(config, self.server) if "metadata" in self.modes else None
        self.dataplane = DataPlane(config, self.proxy)
        self.state: dict | None = None        # the last host_state applied
        self.outcome = None                   # what the last pass achieved
        self._wake = threading.Condition()
        self._pass_lock = threading.Lock()
        self._requested = 0                   # passes asked for so far
        self._done = 0                        # requests the last finished pass covered
        self._active: set[str] = set()        # ports reported ACTIVE
        self._unplugged: set[str] = set()     # ports compute unplugged; the server may lag
        self._unreachable = False             # the server did not answer (logged once)

    @property
    def topics(self) -> list[str]:
        return [agent_topic(self.host), AGENTS_TOPIC]

    # ---- bus methods -------------------------------------------------------------------------

    @remote
    def sync(self) -> None:
        """Re-read the desired state soon (a cast; bursts coalesce into one pass)."""
        self._request()

    @remote
    def plug_port(self, port_id: str) -> dict:
        self._unplugged.discard(port_id)
        self._run_pass(self._request())
        port = next((p for p in (self.state or {}).get("ports") or [] if p["id"] == port_id),
                    None)
        if port is None:
            raise PortNotOnHost(f"port {port_id} is not bound to host {self.host}")
        network = next(n for n in self.state["networks"] if n["id"] == port["network_id"])
        if port["id"] not in self.outcome.wired_ports:
            raise RuntimeError(f"port {port_id}: network {port['network_id']} could not be "
                               f"wired on {self.host}: "
                               f"{self.outcome.failed.get(port['network_id'], 'see its log')}")
        return {"bridge": port["bridge"], "tap": port["tap"], "mtu": network["mtu"]}

    @remote
    def unplug_port(self, port_id: str) -> None:
        self._unplugged.add(port_id)
        self._run_pass(self._request())

    # ---- passes ------------------------------------------------------------------------------

    def _request(self) -> int:
        with self._wake:
            self._requested += 1
            self._wake.notify_all()
            return self._requested

    def _run_pass(self, ticket: int) -> None:
        """Make sure a pass that started after request `ticket` has finished."""
        with self._pass_lock:
            if self._done >= ticket:
                return  # a pass that began after this request already covered it
            covered = self._requested
            self.reconcile()
            self._done = covered

    def reconcile(self) -> None:
        """One pass: fetch this host's state, apply it, report the ports' status."""
        try:
            state = self.server.host_state(self.host)
        except BusError as exc:
            if not self._unreachable:
                LOG.warning("network server unreachable (%s); retrying with backoff", exc)
                self._unreachable = True
            raise
        if self._unreachable:
            LOG.info("network server reachable again")
            self._unreachable = False
        present = {port["id"] for port in state.get("ports") or []}
        self._unplugged &= present
        state = dict(state, ports=[port for port in state.get("ports") or []
                                   if port["id"] not in self._unplugged])
        started = time.monotonic()
        outcome = self.dataplane.apply(state, self.modes)
        self.state, self.outcome = state, outcome
        LOG.debug("pass on %s took %.3f s: %s", self.host, time.monotonic() - started,
                  outcome.counts)
        self._report_ports(outcome.wired_ports)

    def _report_ports(self, wired: set[str]) -> None:
        for ports, status in ((wired - self._active, "ACTIVE"), (self._active - wired, "DOWN")):
            if not ports:
                continue
            try:
                self.server.set_port_status(sorted(ports), status)
            except BusError as exc:  # the next pass reports them again
                LOG.warning("could not report %d ports %s: %s", len(ports), status, exc)
                continue
            LOG.info("ports %s: %s", ", ".join(sorted(ports)), status)
            self._active = (self._active | ports) if status == "ACTIVE" else self._active - ports

    # ---- heartbeat ---------------------------------------------------------------------------

    def configurations(self) -> dict:
        network = self.config["network"]
        counts = self.outcome.counts if self.outcome else {}
        mappings = dict(network.get("physical_mappings") or {})
        # physical_mappings and tunnel_ip are what the server reads; the rest is Neutron's.
        return {"physical_mappings": mappings, "tunnel_ip": self.dataplane.tunnel_ip,
                "bridge_mappings": mappings, "tunnel_types": ["vxlan"],
                "devices": counts.get("ports", 0), "networks": counts.get("networks", 0),
                "dhcp_networks": counts.get("dhcp_networks", 0),
                "routers": counts.get("routers", 0),
                "floating_ips": counts.get("floating_ips", 0), "agent_mode": "legacy",
                "metadata_port": self.proxy.port if self.proxy else None}

    def report(self) -> None:
        self.server.report_agent(self.host, self.modes, self.configurations())

    def _wait_for_server(self):
        """Report until the server hears us: it must know this host's modes and mappings
        before its host_state means anything (an empty one would tear down a running host)."""
        backoff = FIRST_BACKOFF
        while not self.stopping.is_set():
            try:
                self.report()
                return
            except BusError as exc:
                if backoff == FIRST_BACKOFF:
                    LOG.warning("waiting for the network server: %s", exc)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.report_interval)

    def _heartbeat(self):
        silent = False
        while not self.stopping.wait(self.report_interval):
            try:
                self.report()
                if silent:
                    LOG.info("heartbeat reaches the network server again")
                silent = False
            except BusError as exc:
                if not silent:
                    LOG.warning("heartbeat not delivered (%s); still trying", exc)
                silent = True
            except Exception:  # a heartbeat must never end the agent
                LOG.exception("heartbeat failed")

    # ---- the process -------------------------------------------------------------------------

    def run(self):
        server = RpcServer(self.config, self.topics, self, f"network-agent-{self.host}")
        server.start()
        heartbeat = threading.Thread(target=self._heartbeat, name="network-heartbeat",
                                     daemon=True)
        LOG.info("network agent on %s (%s) serving %s", self.host, ", ".join(self.modes),
                 ", ".join(self.topics))
        try:
            self._wait_for_server()
            heartbeat.start()
            self._loop()
        finally:
            server.stop()
            self.teardown()  # first: a heartbeat stuck in a bus call must not eat the stop time
            if heartbeat.is_alive():
                heartbeat.join(timeout=STOP_WAIT_SECONDS)

    def _loop(self):
        self._request()
        backoff, retry_at = 0.0, 0.0
        next_periodic = time.monotonic() + self.reconcile_interval
        while not self.stopping.is_set():
            now = time.monotonic()
            if now >= next_periodic:
                next_periodic = now + self.reconcile_interval
                self._request()
            if self._requested > self._done and now >= retry_at:
                try:
                    self._run_pass(self._requested)
                    backoff = 0.0
                except Exception as exc:  # retried with backoff; the server may not be up yet
                    backoff = min(max(backoff * 2, FIRST_BACKOFF), self.reconcile_interval)
                    retry_at = time.monotonic() + backoff
                    if not isinstance(exc, BusError):
                        LOG.exception("network agent pass failed; retrying in %.0f s", backoff)
                continue
            with self._wake:
                # Short waits: a stop (a signal) is noticed within half a second.
                if self._requested <= self._done or time.monotonic() < retry_at:
                    self._wake.wait(0.5)

    def teardown(self):
        """Remove everything this agent made on the host (namespaces, devices, chains,
        dnsmasq, metadata proxies)."""
        locked = self._pass_lock.acquire(timeout=STOP_WAIT_SECONDS)
        if not locked:
            LOG.warning("a pass is still running; removing the data plane anyway")
        try:
            if self.proxy:
                self.proxy.close()
            self.dataplane.teardown()
        finally:
            if locked:
                self._pass_lock.release()
