"""A node's fields as users write them (POST /v1/nodes, PATCH), checked and turned into
column values: Ironic's rules for names, UUIDs, booleans, interfaces and capabilities."""
import re

from undercloud.baremetal import driverinfo, interfaces
from undercloud.baremetal.routes.common import as_uuid, to_bool
from undercloud.common.errors import BadRequest

# Ironic's logical names: RFC 3986 unreserved characters.
_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,255}$")
_CONDUCTOR_GROUP = re.compile(r"^[A-Za-z0-9_.-]*$")
# Words in /v1/nodes/<word> that are not nodes (Ironic's reserved controller names).
RESERVED_NAMES = ("detail", "validate", "ports", "portgroups", "vifs", "volume", "traits",
                  "bios", "allocation", "history", "inventory", "children", "firmware",
                  "vmedia", "states", "vendor_passthru", "management", "maintenance")
BOOT_MODES = ("bios", "uefi")
_PLAIN = ("description", "owner", "lessee", "resource_class", "retired_reason",
          "protected_reason")
_DICTS = ("extra", "instance_info")
_BOOLS = ("maintenance", "retired", "protected")
# Fields Ironic has that this cloud keeps empty: they take only an empty value.
_UNSUPPORTED = {"chassis_uuid": "chassis", "shard": "shards", "parent_node": "child nodes",
                "network_data": "network_data (the flat network interface needs none)",
                "secure_boot": "secure boot"}


def valid_name(name) -> bool:
    return (isinstance(name, str) and bool(_NAME.match(name)) and as_uuid(name) is None
            and name not in RESERVED_NAMES)


def check_capabilities(capabilities):
    """"profile:compute,boot_mode:bios" (or a dict), as Ironic reads node capabilities."""
    if capabilities is None or isinstance(capabilities, dict):
        return
    if not isinstance(capabilities, str):
        raise BadRequest(f"Invalid capabilities {capabilities!r}: use a string of key:value "
                         "pairs separated by commas, such as profile:compute,boot_mode:bios.")
    for item in filter(None, (part.strip() for part in capabilities.split(","))):
        key, sep, _ = item.partition(":")
        if not sep or not key.strip():
            raise BadRequest(f"Invalid capabilities '{capabilities}': '{item}' is not a "
                             "key:value pair (such as profile:compute,boot_mode:bios).")


def columns(config, values: dict, invalid_name: str) -> dict:
    """Column values for the API fields in `values`; 400 naming the first wrong one.
    `invalid_name` is the message for a bad name, with {name} in it."""
    result = {}
    for field, value in values.items():
        if field in _UNSUPPORTED:
            if value not in (None, {}, ""):
                raise BadRequest(f"This cloud does not support {_UNSUPPORTED[field]}: "
                                 f"{field} must be empty.")
        elif field == "driver":
            interfaces.check_driver(value)
            result["driver"] = value
        elif field == "driver_info":
            plain, secrets = driverinfo.split(value or {})
            result.update(driver_info=plain, driver_secrets=driverinfo.seal(config, secrets))
        elif field == "properties":
            properties = value or {}
            check_capabilities(properties.get("capabilities"))
            result["properties"] = properties
        elif field in _DICTS:
            result[field] = value or {}
        elif field in _PLAIN:
            result[field] = value
        elif field == "name":
            if value is not None and not valid_name(value):
                raise BadRequest(invalid_name.format(name=value))
            result["name"] = value
        elif field in ("uuid", "instance_uuid"):
            canonical = as_uuid(value) if value is not None else None
            if value is not None and canonical is None:
                raise BadRequest(f"Expected a UUID for {field} but received {value}.")
            result["id" if field == "uuid" else field] = canonical
        elif field in _BOOLS:
            result[field] = to_bool(field, value) if value is not None else False
        elif field == "automated_clean":
            result[field] = to_bool(field, value) if value is not None else None
        elif field == "console_enabled":
            if value is not None and to_bool(field, value):
                raise BadRequest("The no-console console interface cannot enable a console.")
        elif field == "conductor_group":
            group = value or ""
            if not _CONDUCTOR_GROUP.match(group):
                raise BadRequest(f"Invalid conductor group {group}: use letters, digits, "
                                 "'.', '_' and '-'.")
            result["conductor_group"] = group.lower()
        elif field == "boot_mode":
            if value is not None and value not in BOOT_MODES:
                raise BadRequest(f"Invalid boot mode {value}: use bios or uefi.")
            result["boot_mode"] = value
        elif field in interfaces.FIELDS:
            interfaces.check(field, value)
            kind = field.removesuffix("_interface")
            if kind in interfaces.STORED:
                result[field] = interfaces.STORED[kind]
    return result
