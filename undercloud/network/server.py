"""The network server: the one network manager with DB access (topic ``network-server``).

Agents on every host ask it what to run (host_state) and report heartbeats and port states;
compute hosts ask it for their guests' ports. At start and periodically it places DHCP
servers and routers on live agents and tells the agents when that moved anything.
"""
import logging

from undercloud import db
from undercloud.bus import remote
from undercloud.common.manager import Manager
from undercloud.network import agents, dhcpports, hoststate, instances
from undercloud.network.models import Port
from undercloud.network.rpcapi import SERVER_TOPIC, AgentAPI

LOG = logging.getLogger(__name__)


class NetworkServer(Manager):
    service = "network"

    def __init__(self, config, host: str | None = None):
        super().__init__(config, host)
        options = config["network"]
        self.reconcile_interval = options["reconcile_interval"]
        self.down_time = options["agent_down_time"]
        self.dns_domain = options["dns_domain"]
        self._agents = None

    @property
    def topics(self) -> list[str]:
        return [SERVER_TOPIC]

    @property
    def agents(self) -> AgentAPI:
        if self._agents is None:
            self._agents = AgentAPI(self.config)
        return self._agents

    def _place(self) -> bool:
        """Put routers and DHCP servers on live agents; True when something moved."""
        moved = agents.place_routers(self.down_time)
        changed = dhcpports.ensure(self.down_time)
        return bool(moved or changed)

    def reconcile(self):
        if self._place():
            self.agents.sync()

    # ---- from agents ------------------------------------------------------------------------

    @remote
    def report_agent(self, host: str, modes: list[str], configurations: dict) -> None:
        new = not agents.host_modes(host)
        agents.report(host, modes, configurations)
        if new:
            LOG.info("network agent on %s reports for the first time (%s)", host,
                     ", ".join(modes) or "no modes")
            if self._place():
                self.agents.sync()

    @remote
    def host_state(self, host: str) -> dict:
        modes = agents.host_modes(host)
        if modes & {"dhcp", "l3"} and self._place():
            self.agents.sync()  # peers of what moved here must re-wire too
        return hoststate.host_state(host, self.dns_domain)

    @remote
    def set_port_status(self, port_ids: list[str], status: str) -> None:
        if status not in ("ACTIVE", "DOWN", "BUILD", "ERROR"):
            raise ValueError(f"unknown port status {status!r}")
        with db.transaction():
            Port.update(status=status, updated_at=db.utcnow()) \
                .where(Port.id.in_(list(port_ids)), Port.status != status).execute()

    @remote
    def instance_for_address(self, ip_address: str, router_id: str | None = None,
                             network_id: str | None = None) -> dict | None:
        return instances.instance_for_address(ip_address, router_id=router_id,
                                              network_id=network_id)

    # ---- from compute -----------------------------------------------------------------------

    @remote
    def allocate_for_instance(self, context: dict, instance_id: str, project_id: str,
                              host: str, requested_networks: list[dict],
                              security_groups: list[str], availability_zone: str) -> list[dict]:
        return instances.allocate_for_instance(
            self.config, context, instance_id, project_id, host, requested_networks,
            security_groups, availability_zone)

    @remote
    def deallocate_for_instance(self, instance_id: str, port_ids: list[str] | None = None):
        instances.deallocate_for_instance(self.config, instance_id, port_ids=port_ids)

    @remote
    def network_info(self, instance_id: str) -> list[dict]:
        return instances.network_info(instance_id)

    @remote
    def validate_networks(self, context: dict, project_id: str, requested_networks: list[dict],
                          security_groups: list[str] = ()) -> list[dict]:
        return instances.validate_networks(context, project_id, requested_networks,
                                           security_groups)
