"""The typed clients for network's managers: the method names are the messages.

- ServerAPI (topic ``network-server``): agents, compute hosts and the API ask the network
  server, the one manager with DB access, for facts and changes.
- AgentAPI (topic ``network.<host>``, fanout ``network-agent``): the data plane on each host.

The desired state of one host, as ``ServerAPI.host_state`` returns it (every list sorted, so
two answers compare equal when nothing changed). Device names are derived from ids so they
fit Linux's 15 characters: bridge ``brq<net[:11]>`` (or the mapped bridge of a flat/vlan
physical network), VXLAN ``vxlan-<vni>``, guest tap ``tap<port[:11]>``, DHCP namespace
``qdhcp-<net>`` with ``ns-<port[:11]>`` inside, router namespace ``qrouter-<router>`` with
``qr-<port[:11]>`` (interfaces) and ``qg-<port[:11]>`` (gateway) inside; the bridge side of a
namespace's veth is ``tap<port[:11]>``, like a guest's.

    {"host": str, "modes": ["l2", "dhcp", "l3", "metadata"],
     "networks": [{"id", "network_type", "physical_network", "segmentation_id", "mtu",
                   "bridge", "vxlan_peers": [ip]}],          # networks wired on this host
     "ports": [{"id", "network_id", "mac_address", "tap", "bridge", "admin_state_up",
                "port_security_enabled", "security_group_ids": [id],
                "fixed_ips": [{"subnet_id", "ip_address"}],
                "allowed_address_pairs": [{"ip_address", "mac_address"}]}],   # guests here
     "security_groups": {id: {"stateful": bool,
                              "rules": [{"id", "direction", "ethertype", "protocol",
                                         "port_range_min", "port_range_max",
                                         "remote_ip_prefix", "remote_group_id"}],
                              "member_ips": {"IPv4": [ip], "IPv6": [ip]}}},
     "dhcp": [{"network_id", "bridge", "mtu", "dns_domain",
               "port": {"id", "mac_address", "tap", "fixed_ips": [{"subnet_id", "ip_address"}]},
               "subnets": [{"id", "cidr", "ip_version", "gateway_ip", "dns_nameservers",
                            "host_routes", "ipv6_ra_mode", "ipv6_address_mode",
                            "allocation_pools", "enable_dhcp"}],
               "hosts": [{"port_id", "mac_address", "ip_address", "subnet_id", "hostname",
                          "extra_dhcp_opts": [{"opt_name", "opt_value", "ip_version"}]}]}],
     "routers": [{"id", "admin_state_up", "enable_snat", "routes": [{"destination", "nexthop"}],
                  "gateway": None | {"port_id", "mac_address", "tap", "bridge", "network_id",
                                     "mtu", "fixed_ips": [{"ip_address", "prefixlen",
                                                           "subnet_id", "cidr", "gateway_ip"}]},
                  "interfaces": [{"port_id", "mac_address", "tap", "bridge", "network_id",
                                  "mtu", "fixed_ips": [{"ip_address", "prefixlen",
                                                        "subnet_id", "cidr"}]}],
                  "floating_ips": [{"id", "floating_ip_address", "fixed_ip_address",
                                    "port_id"}]}]}

A network's VIF for compute (``allocate_for_instance`` returns a list of these, and compute
keeps it as the instance's network_info):

    {"port_id", "network_id", "network_name", "mac_address", "bridge", "tap", "mtu",
     "vif_type": "bridge", "preexisting": bool,   # a port the user passed in is kept on delete
     "status": "ACTIVE" | "DOWN" | ...,           # the port's, as the agents reported it
     "fixed_ips": [{"ip_address", "version", "subnet_id", "cidr", "gateway_ip",
                    "dns_nameservers", "host_routes", "ipv6_address_mode", "enable_dhcp",
                    "floating_ips": [ip]}]}
"""
from undercloud.bus import RpcClient, remotable

SERVER_TOPIC = "network-server"
AGENTS_TOPIC = "network-agent"
# Plugging a port may create its bridge and VXLAN device first; that takes a moment.
PLUG_TIMEOUT = 60.0


def agent_topic(host: str) -> str:
    return f"network.{host}"


# What compute's requests can be refused for; each reaches the compute API as itself (its
# message is the user's), so Nova's status codes can be chosen there.
@remotable
class NetworkRequestNotFound(Exception):
    """A requested network or port does not exist or is not the caller's to see."""


@remotable
class InvalidNetworkRequest(Exception):
    """The request cannot be met as asked (no subnet, bad fixed IP, unknown group, ...)."""


@remotable
class NetworkRequestConflict(Exception):
    """A port or address is in use, or the automatic choice is ambiguous."""


@remotable
class NetworkAttachForbidden(Exception):
    """Guests may not be plugged into an external network that is not shared."""


class _Client:
    def __init__(self, config, client: RpcClient | None = None):
        self.config = config
        self.client = client or RpcClient(config)


class ServerAPI(_Client):
    def _call(self, method: str, timeout: float | None = None, **kwargs):
        return self.client.call(SERVER_TOPIC, method, timeout=timeout, **kwargs)

    # ---- from agents ------------------------------------------------------------------------

    def report_agent(self, host: str, modes: list[str], configurations: dict) -> None:
        """Heartbeat: one agent row per mode on host is created or refreshed."""
        self._call("report_agent", host=host, modes=modes, configurations=configurations)

    def host_state(self, host: str) -> dict:
        """What host should run (see the module docstring)."""
        return self._call("host_state", host=host)

    def set_port_status(self, port_ids: list[str], status: str) -> None:
        """ACTIVE once the data plane wired the ports, DOWN when it unwired them."""
        self._call("set_port_status", port_ids=list(port_ids), status=status)

    def instance_for_address(self, ip_address: str, router_id: str | None = None,
                             network_id: str | None = None) -> dict | None:
        """{"instance_id", "project_id"} of the guest port with ip_address on a network the
        router serves (or on network_id), or None."""
        return self._call("instance_for_address", ip_address=ip_address, router_id=router_id,
                          network_id=network_id)

    # ---- from compute -----------------------------------------------------------------------

    def allocate_for_instance(self, context: dict, instance_id: str, project_id: str,
                              host: str, requested_networks: list[dict],
                              security_groups: list[str], availability_zone: str) -> list[dict]:
        """Create (or take over) and bind the instance's ports; returns its VIFs.

        requested_networks items: {"uuid": net} | {"port": port} | {"uuid": net,
        "fixed_ip": ip}; [] means "the one network the project can use" (Nova's auto)."""
        return self._call("allocate_for_instance", context=context, instance_id=instance_id,
                          project_id=project_id, host=host,
                          requested_networks=requested_networks,
                          security_groups=security_groups,
                          availability_zone=availability_zone)

    def deallocate_for_instance(self, instance_id: str, port_ids: list[str] | None = None) -> None:
        """Delete the ports compute made and unbind the ones the user passed in (all, or just
        port_ids)."""
        self._call("deallocate_for_instance", instance_id=instance_id, port_ids=port_ids)

    def network_info(self, instance_id: str) -> list[dict]:
        """The instance's VIFs as they are now (fixed and floating addresses)."""
        return self._call("network_info", instance_id=instance_id)

    def validate_networks(self, context: dict, project_id: str, requested_networks: list[dict],
                          security_groups: list[str] = ()) -> list[dict]:
        """Check a server create's networks, ports, fixed IPs and security groups before it is
        recorded; returns the requested networks with [] (auto) resolved to the one network
        the project can use, or [] when it has none. Raises the exceptions above."""
        return self._call("validate_networks", context=context, project_id=project_id,
                          requested_networks=requested_networks,
                          security_groups=list(security_groups))


class AgentAPI(_Client):
    def sync(self, host: str | None = None) -> None:
        """Re-read the desired state and apply it: on host, or on every agent (cast)."""
        if host:
            self.client.cast(agent_topic(host), "sync")
        else:
            self.client.fanout(AGENTS_TOPIC, "sync")

    def plug_port(self, host: str, port_id: str) -> dict:
        """Wire a guest's port before the guest starts: its bridge exists and its security
        group rules are in place. Returns {"bridge", "tap", "mtu"}."""
        return self.client.call(agent_topic(host), "plug_port", timeout=PLUG_TIMEOUT,
                                port_id=port_id)

    def unplug_port(self, host: str, port_id: str) -> None:
        """Remove the port's rules (the hypervisor removes its tap)."""
        self.client.call(agent_topic(host), "unplug_port", timeout=PLUG_TIMEOUT, port_id=port_id)
