"""Compute's tables: flavors, keypairs, instances and their details, hosts, claims,
server groups and quotas."""
import peewee

from undercloud.db import BaseModel, JSONField, TimestampedModel, utcnow


class Flavor(TimestampedModel):
    flavorid = peewee.CharField(max_length=255, unique=True)   # the id users see
    name = peewee.CharField(max_length=255, unique=True)
    vcpus = peewee.IntegerField()
    memory_mb = peewee.IntegerField()
    root_gb = peewee.IntegerField(default=0)
    ephemeral_gb = peewee.IntegerField(default=0)
    swap = peewee.IntegerField(default=0)
    rxtx_factor = peewee.FloatField(default=1.0)
    is_public = peewee.BooleanField(default=True)
    disabled = peewee.BooleanField(default=False)
    description = peewee.TextField(null=True)
    extra_specs = JSONField(default=dict)


class FlavorAccess(BaseModel):
    flavor = peewee.ForeignKeyField(Flavor, backref="access", on_delete="CASCADE")
    project_id = peewee.CharField(max_length=64)

    class Meta:
        indexes = ((("flavor", "project_id"), True),)


class KeyPair(TimestampedModel):
    name = peewee.CharField(max_length=255)
    user_id = peewee.CharField(max_length=64, index=True)
    type = peewee.CharField(max_length=8, default="ssh")       # ssh or x509
    public_key = peewee.TextField()
    fingerprint = peewee.CharField(max_length=255)

    class Meta:
        indexes = ((("user_id", "name"), True),)


class Instance(TimestampedModel):
    """A server. Deleted rows stay (deleted=True) so changes-since listings see them."""
    display_name = peewee.CharField(max_length=255)
    display_description = peewee.TextField(null=True)
    project_id = peewee.CharField(max_length=64, index=True)
    user_id = peewee.CharField(max_length=64)
    image_ref = peewee.CharField(max_length=64, default="")
    flavor = JSONField()                    # the flavor as it was at boot (Nova embeds it)
    old_flavor = JSONField(null=True)       # during resize, until confirm/revert
    new_flavor = JSONField(null=True)
    vm_state = peewee.CharField(max_length=32, default="building", index=True)
    task_state = peewee.CharField(max_length=32, null=True, default="scheduling")
    power_state = peewee.IntegerField(default=0)
    host = peewee.CharField(max_length=255, null=True, index=True)
    node = peewee.CharField(max_length=255, null=True)
    availability_zone = peewee.CharField(max_length=255, null=True)
    key_name = peewee.CharField(max_length=255, null=True)
    key_data = peewee.TextField(null=True)
    user_data = peewee.TextField(null=True)               # base64, as the client sent it
    config_drive = peewee.BooleanField(default=False)
    metadata = JSONField(default=dict)
    system_metadata = JSONField(default=dict)             # image properties and internal facts
    locked = peewee.BooleanField(default=False)
    locked_by = peewee.CharField(max_length=16, null=True)   # owner or admin
    locked_reason = peewee.TextField(null=True)
    reservation_id = peewee.CharField(max_length=64)
    launch_index = peewee.IntegerField(default=0)
    hostname = peewee.CharField(max_length=255)
    access_ip_v4 = peewee.CharField(max_length=64, null=True)
    access_ip_v6 = peewee.CharField(max_length=64, null=True)
    progress = peewee.IntegerField(default=0)
    launched_at = peewee.DateTimeField(null=True)
    terminated_at = peewee.DateTimeField(null=True)
    block_device_mapping = JSONField(default=list)
    requested_networks = JSONField(default=list)          # from the create request
    security_groups = JSONField(default=list)             # names from the create request
    network_info = JSONField(default=list)                # VIFs (undercloud/network/rpcapi.py)
    addresses = JSONField(default=dict)                   # Nova's view of network_info
    server_group_id = peewee.CharField(max_length=64, null=True)
    deleted = peewee.BooleanField(default=False, index=True)
    deleted_at = peewee.DateTimeField(null=True)


class InstanceTag(BaseModel):
    instance = peewee.ForeignKeyField(Instance, backref="tags", on_delete="CASCADE")
    tag = peewee.CharField(max_length=60)

    class Meta:
        indexes = ((("instance", "tag"), True),)


class InstanceFault(BaseModel):
    instance = peewee.ForeignKeyField(Instance, backref="faults", on_delete="CASCADE")
    code = peewee.IntegerField(default=500)
    message = peewee.CharField(max_length=255)
    details = peewee.TextField(default="")
    host = peewee.CharField(max_length=255, null=True)
    created_at = peewee.DateTimeField(default=utcnow)


class InstanceAction(BaseModel):
    instance = peewee.ForeignKeyField(Instance, backref="actions", on_delete="CASCADE")
    action = peewee.CharField(max_length=255)
    request_id = peewee.CharField(max_length=64, index=True)
    user_id = peewee.CharField(max_length=64, null=True)
    project_id = peewee.CharField(max_length=64, null=True)
    start_time = peewee.DateTimeField(default=utcnow)
    finish_time = peewee.DateTimeField(null=True)
    message = peewee.CharField(max_length=255, null=True)   # "Error" when an event failed
    updated_at = peewee.DateTimeField(default=utcnow)


class InstanceActionEvent(BaseModel):
    action = peewee.ForeignKeyField(InstanceAction, backref="events", on_delete="CASCADE")
    event = peewee.CharField(max_length=255)                # e.g. compute_reboot_instance
    start_time = peewee.DateTimeField(default=utcnow)
    finish_time = peewee.DateTimeField(null=True)
    result = peewee.CharField(max_length=255, null=True)    # Success or Error
    traceback = peewee.TextField(null=True)                 # shown to admins only
    host = peewee.CharField(max_length=255, null=True)


class ComputeNode(TimestampedModel):
    """A hypervisor host: what it has (reported by its manager) and what is claimed on it."""
    host = peewee.CharField(max_length=255, unique=True)
    hypervisor_hostname = peewee.CharField(max_length=255)
    hypervisor_type = peewee.CharField(max_length=64, default="QEMU")
    hypervisor_version = peewee.IntegerField(default=0)
    host_ip = peewee.CharField(max_length=64, null=True)
    cpu_arch = peewee.CharField(max_length=32, default="x86_64")
    cpu_info = JSONField(default=dict)
    vcpus = peewee.IntegerField(default=0)
    memory_mb = peewee.IntegerField(default=0)
    local_gb = peewee.IntegerField(default=0)
    vcpus_used = peewee.IntegerField(default=0)             # claimed, not measured
    memory_mb_used = peewee.IntegerField(default=0)
    local_gb_used = peewee.IntegerField(default=0)
    running_vms = peewee.IntegerField(default=0)
    availability_zone = peewee.CharField(max_length=255, default="nova")
    enabled = peewee.BooleanField(default=True)             # os-services status
    disabled_reason = peewee.CharField(max_length=255, null=True)
    forced_down = peewee.BooleanField(default=False)
    heartbeat_at = peewee.DateTimeField(null=True)          # the manager's last report


class Claim(BaseModel):
    """Resources one instance holds on one host; made and released atomically with ComputeNode."""
    instance_id = peewee.CharField(max_length=64, index=True)
    node = peewee.ForeignKeyField(ComputeNode, backref="claims", on_delete="CASCADE")
    vcpus = peewee.IntegerField()
    memory_mb = peewee.IntegerField()
    disk_gb = peewee.IntegerField()
    created_at = peewee.DateTimeField(default=utcnow)


class ServiceRecord(TimestampedModel):
    """os-services: a compute, scheduler or conductor process on a host."""
    binary = peewee.CharField(max_length=64)                # nova-compute, nova-scheduler, ...
    host = peewee.CharField(max_length=255)
    zone = peewee.CharField(max_length=255, default="internal")
    enabled = peewee.BooleanField(default=True)
    disabled_reason = peewee.CharField(max_length=255, null=True)
    forced_down = peewee.BooleanField(default=False)
    heartbeat_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("binary", "host"), True),)


class ServerGroup(TimestampedModel):
    name = peewee.CharField(max_length=255)
    project_id = peewee.CharField(max_length=64, index=True)
    user_id = peewee.CharField(max_length=64)
    policy = peewee.CharField(max_length=32)                # affinity, anti-affinity, soft-*
    rules = JSONField(default=dict)                         # {"max_server_per_host": N}


class ServerGroupMember(BaseModel):
    group = peewee.ForeignKeyField(ServerGroup, backref="members", on_delete="CASCADE")
    instance_id = peewee.CharField(max_length=64, unique=True)


class QuotaLimit(BaseModel):
    """A per-project override of a default limit (instances, cores, ram, key_pairs, ...)."""
    project_id = peewee.CharField(max_length=64)
    user_id = peewee.CharField(max_length=64, null=True)
    resource = peewee.CharField(max_length=64)
    hard_limit = peewee.IntegerField()

    class Meta:
        indexes = ((("project_id", "user_id", "resource"), True),)


TABLES = [Flavor, FlavorAccess, KeyPair, Instance, InstanceTag, InstanceFault, InstanceAction,
          InstanceActionEvent, ComputeNode, Claim, ServiceRecord, ServerGroup, ServerGroupMember,
          QuotaLimit]
