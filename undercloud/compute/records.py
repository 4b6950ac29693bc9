"""Instances as plain dicts for the bus (compute hosts never see DB rows), and the request
spec the scheduler needs, rebuilt from an instance when the API's cast was lost."""
from undercloud.compute.models import Instance

FIELDS = ("id", "display_name", "display_description", "project_id", "user_id", "image_ref",
          "flavor", "old_flavor", "new_flavor", "vm_state", "task_state", "power_state", "host",
          "node", "availability_zone", "key_name", "key_data", "user_data", "config_drive",
          "metadata", "system_metadata", "reservation_id", "launch_index", "hostname",
          "launched_at", "server_group_id", "deleted", "created_at", "updated_at",
          "requested_networks", "security_groups", "network_info", "addresses")


def instance_record(instance: Instance) -> dict:
    return {field: getattr(instance, field) for field in FIELDS}


def image_properties(system_metadata: dict) -> dict:
    """Nova keeps the boot image's properties in system_metadata as image_<name>."""
    return {key[len("image_"):]: value for key, value in (system_metadata or {}).items()
            if key.startswith("image_")}


def request_spec(instance: Instance) -> dict:
    return {"flavor": instance.flavor,
            "image": {"id": instance.image_ref,
                      "properties": image_properties(instance.system_metadata)},
            "availability_zone": instance.availability_zone,
            "group_id": instance.server_group_id, "force_host": None}
