"""Request bodies of the Ironic v1 API, as JSON Schemas (Ironic's own node and port schemas).

Booleans may also come as strings ("true", "no"...), as Ironic accepts; the routes turn them
into booleans. Fields that may carry a secret are checked without echoing their value.
"""
import jsonschema

from undercloud.common import validation
from undercloud.common.errors import BadRequest

_STRING_OR_NULL = {"type": ["string", "null"]}
_BOOL = {"type": ["string", "boolean", "null"]}
_OBJECT_OR_NULL = {"type": ["object", "null"]}
# Fields whose values may hold a password: their errors never quote the value.
SECRET_BEARING = ("driver_info", "instance_info", "driver_internal_info", "rescue_password",
                  "agent_token", "configdrive")

NODE = {
    "type": "object",
    "properties": {
        "automated_clean": _BOOL,
        "bios_interface": _STRING_OR_NULL,
        "boot_interface": _STRING_OR_NULL,
        "boot_mode": _STRING_OR_NULL,
        "chassis_uuid": _STRING_OR_NULL,
        "conductor_group": {"type": ["string", "null"], "maxLength": 255},
        "console_enabled": _BOOL,
        "console_interface": _STRING_OR_NULL,
        "deploy_interface": _STRING_OR_NULL,
        "description": {"type": ["string", "null"], "maxLength": 4096},
        "driver": {"type": "string"},
        "driver_info": _OBJECT_OR_NULL,
        "extra": _OBJECT_OR_NULL,
        "firmware_interface": _STRING_OR_NULL,
        "inspect_interface": _STRING_OR_NULL,
        "instance_info": _OBJECT_OR_NULL,
        "instance_uuid": _STRING_OR_NULL,
        "lessee": _STRING_OR_NULL,
        "maintenance": _BOOL,
        "management_interface": _STRING_OR_NULL,
        "name": _STRING_OR_NULL,
        "network_data": _OBJECT_OR_NULL,
        "network_interface": _STRING_OR_NULL,
        "owner": _STRING_OR_NULL,
        "parent_node": {"type": ["string", "null"], "maxLength": 36},
        "power_interface": _STRING_OR_NULL,
        "properties": _OBJECT_OR_NULL,
        "raid_interface": _STRING_OR_NULL,
        "rescue_interface": _STRING_OR_NULL,
        "resource_class": {"type": ["string", "null"], "maxLength": 80},
        "retired": _BOOL,
        "retired_reason": _STRING_OR_NULL,
        "secure_boot": _BOOL,
        "shard": _STRING_OR_NULL,
        "storage_interface": _STRING_OR_NULL,
        "uuid": _STRING_OR_NULL,
        "vendor_interface": _STRING_OR_NULL,
    },
    "required": ["driver"],
    "additionalProperties": False,
}

NODE_PATCHED = {**NODE, "properties": {**NODE["properties"], "protected": _BOOL,
                                       "protected_reason": _STRING_OR_NULL}}

PORT = {
    "type": "object",
    "properties": {
        "address": {"type": "string"},
        "extra": _OBJECT_OR_NULL,
        "is_smartnic": _BOOL,
        "local_link_connection": _OBJECT_OR_NULL,
        "node_ident": {"type": "string"},
        "node_uuid": {"type": "string"},
        "physical_network": {"type": ["string", "null"], "maxLength": 64},
        "portgroup_uuid": _STRING_OR_NULL,
        "pxe_enabled": _BOOL,
        "uuid": _STRING_OR_NULL,
        "name": _STRING_OR_NULL,
    },
    "required": ["address"],
    "additionalProperties": False,
}

PROVISION = {
    "type": "object",
    "properties": {
        "target": {"type": "string"},
        "configdrive": {"type": ["object", "string", "null"]},
        "clean_steps": {"type": ["array", "null"]},
        "deploy_steps": {"type": ["array", "null"]},
        "service_steps": {"type": ["array", "null"]},
        "rescue_password": {"type": ["string", "null"]},
        "disable_ramdisk": _BOOL,
        "runbook": _STRING_OR_NULL,
    },
    "required": ["target"],
    "additionalProperties": False,
}

POWER = {
    "type": "object",
    "properties": {"target": {"type": "string"}, "timeout": {"type": ["integer", "null"]}},
    "required": ["target"],
    "additionalProperties": False,
}

BOOT_DEVICE = {
    "type": "object",
    "properties": {"boot_device": {"type": "string"}, "persistent": _BOOL},
    "required": ["boot_device"],
    "additionalProperties": False,
}

MAINTENANCE = {
    "type": ["object", "null"],
    "properties": {"reason": _STRING_OR_NULL},
    "additionalProperties": False,
}

HEARTBEAT = {
    "type": "object",
    "properties": {
        "agent_token": {"type": "string"},
        "agent_version": _STRING_OR_NULL,
        "callback_url": _STRING_OR_NULL,
        "agent_verify_ca": _STRING_OR_NULL,
        "agent_status": _STRING_OR_NULL,
        "agent_status_message": _STRING_OR_NULL,
        "command_result": {
            "type": ["object", "null"],
            "properties": {"name": {"type": "string"},
                           "status": {"enum": ["SUCCEEDED", "FAILED"]},
                           "error": _STRING_OR_NULL},
            "required": ["name", "status"],
        },
    },
    "additionalProperties": False,
}

CONTINUE_INSPECTION = {
    "type": "object",
    "properties": {
        "inventory": {
            "type": "object",
            "properties": {
                "bmc_address": _STRING_OR_NULL,
                "bmc_v6address": _STRING_OR_NULL,
                "interfaces": {
                    "type": "array",
                    "items": {"type": "object",
                              "properties": {"mac_address": {"type": "string"}},
                              "required": ["mac_address"]},
                    "minItems": 1,
                },
            },
            "required": ["interfaces"],
        },
    },
    "required": ["inventory"],
}


def check(document, schema: dict):
    """400 naming the first field that does not fit; a secret-bearing field's value unsaid."""
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return
    path = [str(part) for part in error.absolute_path]
    if path and path[0] in SECRET_BEARING:
        expected = schema["properties"][path[0]].get("type")
        raise BadRequest(f"Invalid input for field/attribute {path[0]}: expected "
                         f"{' or '.join(expected) if isinstance(expected, list) else expected}.")
    validation.check(document, schema)
