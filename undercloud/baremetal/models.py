"""Bare metal's tables: nodes, their ports, inspection data and the conductors.

Ids are dashed UUIDs (Ironic's "uuid"). A node's BMC password never sits in driver_info: it
is sealed with the cloud's key in ``driver_secrets`` (undercloud.common.secretbox) and shown
as "******".
"""
import uuid

import peewee

from undercloud.db import BaseModel, JSONField, TimestampedModel, utcnow


def new_uuid() -> str:
    return str(uuid.uuid4())


class Node(TimestampedModel):
    id = peewee.CharField(primary_key=True, max_length=36, default=new_uuid)
    name = peewee.CharField(max_length=255, null=True, unique=True)
    description = peewee.TextField(null=True)
    driver = peewee.CharField(max_length=64, default="ipmi")
    # ipmi_address, ipmi_port, ipmi_username, deploy_kernel, deploy_ramdisk ...; never secrets.
    driver_info = JSONField(default=dict)
    driver_secrets = peewee.TextField(null=True)      # sealed JSON: {"ipmi_password": ...}
    driver_internal_info = JSONField(default=dict)    # the conductor's working notes
    properties = JSONField(default=dict)              # cpus, memory_mb, local_gb, capabilities
    instance_info = JSONField(default=dict)           # image_source, root_gb, image_checksum ...
    instance_uuid = peewee.CharField(max_length=36, null=True, unique=True)
    extra = JSONField(default=dict)
    provision_state = peewee.CharField(max_length=32, default="enroll", index=True)
    target_provision_state = peewee.CharField(max_length=32, null=True)
    provision_updated_at = peewee.DateTimeField(null=True)
    power_state = peewee.CharField(max_length=32, null=True)
    target_power_state = peewee.CharField(max_length=32, null=True)
    maintenance = peewee.BooleanField(default=False)
    maintenance_reason = peewee.TextField(null=True)
    fault = peewee.CharField(max_length=255, null=True)
    last_error = peewee.TextField(null=True)
    reservation = peewee.CharField(max_length=255, null=True)   # the conductor working on it
    conductor_group = peewee.CharField(max_length=255, default="")
    resource_class = peewee.CharField(max_length=80, null=True)
    owner = peewee.CharField(max_length=255, null=True)
    lessee = peewee.CharField(max_length=255, null=True)
    protected = peewee.BooleanField(default=False)
    protected_reason = peewee.TextField(null=True)
    retired = peewee.BooleanField(default=False)
    retired_reason = peewee.TextField(null=True)
    automated_clean = peewee.BooleanField(null=True)
    console_enabled = peewee.BooleanField(default=False)
    boot_mode = peewee.CharField(max_length=16, null=True)
    clean_step = JSONField(default=dict)
    deploy_step = JSONField(default=dict)
    inspection_started_at = peewee.DateTimeField(null=True)
    inspection_finished_at = peewee.DateTimeField(null=True)
    # The interfaces Ironic's "ipmi" hardware type uses here.
    boot_interface = peewee.CharField(max_length=64, default="ipxe")
    deploy_interface = peewee.CharField(max_length=64, default="direct")
    inspect_interface = peewee.CharField(max_length=64, default="agent")
    management_interface = peewee.CharField(max_length=64, default="ipmitool")
    power_interface = peewee.CharField(max_length=64, default="ipmitool")
    network_interface = peewee.CharField(max_length=64, default="flat")


class Port(TimestampedModel):
    id = peewee.CharField(primary_key=True, max_length=36, default=new_uuid)
    node = peewee.ForeignKeyField(Node, backref="ports", on_delete="CASCADE")
    address = peewee.CharField(max_length=18, unique=True)   # the MAC, lower case
    name = peewee.CharField(max_length=255, null=True, unique=True)
    pxe_enabled = peewee.BooleanField(default=True)
    local_link_connection = JSONField(default=dict)
    physical_network = peewee.CharField(max_length=64, null=True)
    extra = JSONField(default=dict)
    is_smartnic = peewee.BooleanField(default=False)


class NodeInventory(BaseModel):
    """What inspection found (Ironic's GET /v1/nodes/{id}/inventory)."""
    node = peewee.ForeignKeyField(Node, backref="inventories", on_delete="CASCADE", unique=True)
    inventory = JSONField(default=dict)
    plugin_data = JSONField(default=dict)
    created_at = peewee.DateTimeField(default=utcnow)


class Conductor(BaseModel):
    """A conductor process (GET /v1/conductors); alive while its heartbeat is fresh."""
    hostname = peewee.CharField(max_length=255, unique=True)
    conductor_group = peewee.CharField(max_length=255, default="")
    drivers = JSONField(default=list)
    online = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)


TABLES = [Node, Port, NodeInventory, Conductor]
