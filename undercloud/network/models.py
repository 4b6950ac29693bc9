"""Network's tables: Neutron's resources, their addresses, tags, quotas and agents.

Ids are dashed UUIDs, as Neutron's. Router interfaces, router gateways, floating IPs and DHCP
servers are ports (device_owner network:router_interface / network:router_gateway /
network:floatingip / network:dhcp), as in Neutron, so one IPAM covers every address.
"""
import uuid

import peewee

from undercloud.db import BaseModel, JSONField, TimestampedModel


def new_uuid() -> str:
    return str(uuid.uuid4())


class Resource(TimestampedModel):
    """Neutron's standard attributes: id, project, name, description and revision."""
    id = peewee.CharField(primary_key=True, max_length=36, default=new_uuid)
    project_id = peewee.CharField(max_length=255, default="", index=True)
    name = peewee.CharField(max_length=255, default="")
    description = peewee.CharField(max_length=255, default="")
    revision_number = peewee.IntegerField(default=0)


class Network(Resource):
    admin_state_up = peewee.BooleanField(default=True)
    status = peewee.CharField(max_length=16, default="ACTIVE")
    shared = peewee.BooleanField(default=False)
    external = peewee.BooleanField(default=False, index=True)   # router:external
    is_default = peewee.BooleanField(default=False)
    mtu = peewee.IntegerField(default=1450)
    port_security_enabled = peewee.BooleanField(default=True)
    availability_zone_hints = JSONField(default=list)
    # provider:network_type / physical_network / segmentation_id
    network_type = peewee.CharField(max_length=16, default="vxlan")
    physical_network = peewee.CharField(max_length=64, null=True)
    segmentation_id = peewee.IntegerField(null=True)
    # "<type>:<physnet>:<id>", unique, so two networks never share one segment (null: local).
    segment_key = peewee.CharField(max_length=128, null=True, unique=True)


class SubnetPool(Resource):
    ip_version = peewee.IntegerField(default=4)
    prefixes = JSONField(default=list)               # CIDR strings
    default_prefixlen = peewee.IntegerField()
    min_prefixlen = peewee.IntegerField()
    max_prefixlen = peewee.IntegerField()
    default_quota = peewee.IntegerField(null=True)
    shared = peewee.BooleanField(default=False)
    is_default = peewee.BooleanField(default=False)
    address_scope_id = peewee.CharField(max_length=36, null=True)


class Subnet(Resource):
    network = peewee.ForeignKeyField(Network, backref="subnets", on_delete="CASCADE")
    ip_version = peewee.IntegerField(default=4)
    cidr = peewee.CharField(max_length=64)
    gateway_ip = peewee.CharField(max_length=64, null=True)
    enable_dhcp = peewee.BooleanField(default=True)
    allocation_pools = JSONField(default=list)       # [{"start": ip, "end": ip}]
    dns_nameservers = JSONField(default=list)        # [ip], in the user's order
    host_routes = JSONField(default=list)            # [{"destination": cidr, "nexthop": ip}]
    ipv6_ra_mode = peewee.CharField(max_length=32, null=True)
    ipv6_address_mode = peewee.CharField(max_length=32, null=True)
    subnetpool = peewee.ForeignKeyField(SubnetPool, null=True, backref="subnets",
                                        on_delete="RESTRICT")
    service_types = JSONField(default=list)
    segment_id = peewee.CharField(max_length=36, null=True)


class SecurityGroup(Resource):
    stateful = peewee.BooleanField(default=True)


class DefaultSecurityGroup(BaseModel):
    """One row per project: makes "exactly one default group" hold under concurrent requests."""
    id = peewee.CharField(primary_key=True, max_length=255)   # the project id
    security_group = peewee.ForeignKeyField(SecurityGroup, on_delete="CASCADE")


class SecurityGroupRule(Resource):
    security_group = peewee.ForeignKeyField(SecurityGroup, backref="rules", on_delete="CASCADE")
    direction = peewee.CharField(max_length=8)                 # ingress / egress
    ethertype = peewee.CharField(max_length=4, default="IPv4")  # IPv4 / IPv6
    protocol = peewee.CharField(max_length=40, null=True)      # name or number as given
    port_range_min = peewee.IntegerField(null=True)
    port_range_max = peewee.IntegerField(null=True)
    remote_ip_prefix = peewee.CharField(max_length=64, null=True)
    remote_group_id = peewee.CharField(max_length=36, null=True, index=True)
    remote_address_group_id = peewee.CharField(max_length=36, null=True)


class Port(Resource):
    network = peewee.ForeignKeyField(Network, backref="ports", on_delete="RESTRICT")
    mac_address = peewee.CharField(max_length=32)
    admin_state_up = peewee.BooleanField(default=True)
    status = peewee.CharField(max_length=16, default="DOWN")   # ACTIVE once an agent wired it
    device_id = peewee.CharField(max_length=255, default="", index=True)
    device_owner = peewee.CharField(max_length=255, default="", index=True)
    port_security_enabled = peewee.BooleanField(default=True)
    allowed_address_pairs = JSONField(default=list)   # [{"ip_address", "mac_address"}]
    extra_dhcp_opts = JSONField(default=list)         # [{"opt_name", "opt_value", "ip_version"}]
    binding_host_id = peewee.CharField(max_length=255, default="", index=True)
    binding_vnic_type = peewee.CharField(max_length=32, default="normal")
    binding_profile = JSONField(default=dict)
    binding_vif_type = peewee.CharField(max_length=32, default="unbound")
    binding_vif_details = JSONField(default=dict)
    propagate_uplink_status = peewee.BooleanField(default=False)

    class Meta:
        indexes = ((("network", "mac_address"), True),)


class IPAllocation(BaseModel):
    """One fixed IP of a port; unique per subnet, so concurrent creates never share one."""
    port = peewee.ForeignKeyField(Port, backref="fixed_ips", on_delete="CASCADE")
    subnet = peewee.ForeignKeyField(Subnet, backref="allocations", on_delete="RESTRICT")
    network = peewee.ForeignKeyField(Network, on_delete="CASCADE")
    ip_address = peewee.CharField(max_length=64)

    class Meta:
        indexes = ((("subnet", "ip_address"), True),)


class PortSecurityGroup(BaseModel):
    port = peewee.ForeignKeyField(Port, backref="security_group_rows", on_delete="CASCADE")
    security_group = peewee.ForeignKeyField(SecurityGroup, backref="port_rows",
                                            on_delete="RESTRICT")

    class Meta:
        indexes = ((("port", "security_group"), True),)


class Router(Resource):
    admin_state_up = peewee.BooleanField(default=True)
    status = peewee.CharField(max_length=16, default="ACTIVE")
    # external_gateway_info: the gateway port (device_owner network:router_gateway) holds the
    # network and external_fixed_ips; enable_snat lives here.
    gw_port_id = peewee.CharField(max_length=36, null=True)
    enable_snat = peewee.BooleanField(default=True)
    routes = JSONField(default=list)                  # [{"destination", "nexthop"}]
    availability_zone_hints = JSONField(default=list)
    host = peewee.CharField(max_length=255, null=True)  # the L3 agent's host that runs it


class FloatingIP(Resource):
    floating_network = peewee.ForeignKeyField(Network, backref="floating_ips",
                                              on_delete="RESTRICT")
    floating_port_id = peewee.CharField(max_length=36)
    floating_ip_address = peewee.CharField(max_length=64)
    port_id = peewee.CharField(max_length=36, null=True, index=True)
    fixed_ip_address = peewee.CharField(max_length=64, null=True)
    router_id = peewee.CharField(max_length=36, null=True, index=True)
    status = peewee.CharField(max_length=16, default="DOWN")


class Tag(BaseModel):
    resource_type = peewee.CharField(max_length=32)   # networks, subnets, ports, ...
    resource_id = peewee.CharField(max_length=36)
    tag = peewee.CharField(max_length=255)

    class Meta:
        indexes = ((("resource_type", "resource_id", "tag"), True), (("tag",), False))


class Quota(BaseModel):
    project_id = peewee.CharField(max_length=255)
    resource = peewee.CharField(max_length=64)
    limit = peewee.IntegerField()

    class Meta:
        indexes = ((("project_id", "resource"), True),)


class Agent(TimestampedModel):
    """A data-plane agent on a host (Neutron's agent_type: "Linux bridge agent", "DHCP agent",
    "L3 agent", "Metadata agent"); alive while its heartbeat is fresh."""
    id = peewee.CharField(primary_key=True, max_length=36, default=new_uuid)
    agent_type = peewee.CharField(max_length=64)
    binary = peewee.CharField(max_length=64)
    host = peewee.CharField(max_length=255)
    topic = peewee.CharField(max_length=255)
    admin_state_up = peewee.BooleanField(default=True)
    availability_zone = peewee.CharField(max_length=255, null=True)
    configurations = JSONField(default=dict)
    description = peewee.CharField(max_length=255, default="")
    started_at = peewee.DateTimeField()
    heartbeat_timestamp = peewee.DateTimeField()

    class Meta:
        indexes = ((("agent_type", "host"), True),)


TABLES = [Network, SubnetPool, Subnet, SecurityGroup, DefaultSecurityGroup, SecurityGroupRule,
          Port, IPAllocation, PortSecurityGroup, Router, FloatingIP, Tag, Quota, Agent]
