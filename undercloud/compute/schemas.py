"""Request bodies compute accepts (Nova's JSON schemas, trimmed to what Stackbox honours)."""

# Nova's parameter_types.name: printable, no leading or trailing whitespace.
NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^(?![\s])[^\x00-\x1f\x7f]*(?<![\s])$"}
# Server names follow the same rule in v2.1 (Nova dropped v2.0's leading/trailing spaces).
SERVER_NAME = NAME
DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 255,
               "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"}
METADATA = {"type": "object", "maxProperties": 10000,
            "patternProperties": {r"^[a-zA-Z0-9\-_:. /]{1,255}$": {"type": "string",
                                                                     "maxLength": 255}},
            "additionalProperties": False}
TAG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": r"^[^,/]*$"}
TAGS = {"type": "array", "items": TAG, "maxItems": 50}
UUID = {"type": "string", "format": "uuid",
        "pattern": r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$"}
FLAVOR_REF = {"type": ["string", "integer"], "minLength": 1}
IPV4 = {"type": "string",
        "pattern": r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$"}
IPV6 = {"type": "string", "pattern": r"^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$"}
COUNT = {"type": ["integer", "string"], "pattern": r"^[0-9]*$", "minimum": 1, "minLength": 1}
BOOLEAN = {"type": ["boolean", "string"],
           "enum": [True, False, "True", "False", "true", "false", "1", "0", "yes", "no",
                    "on", "off", "y", "n", "t", "f", "TRUE", "FALSE"]}

BLOCK_DEVICE = {
    "type": "object",
    "properties": {
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "uuid": {"type": "string", "minLength": 1, "maxLength": 255},
        "boot_index": {"type": ["integer", "string", "null"]},
        "volume_size": {"type": ["integer", "string", "null"]},
        "delete_on_termination": BOOLEAN,
        "device_name": {"type": ["string", "null"]},
        "device_type": {"type": ["string", "null"]},
        "disk_bus": {"type": ["string", "null"]},
        "guest_format": {"type": ["string", "null"]},
        "no_device": {},
        "volume_type": {"type": ["string", "null"]},
        "tag": {"type": "string"},
    },
    "additionalProperties": False,
}

SERVER_CREATE = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": SERVER_NAME,
                "imageRef": {"type": "string", "maxLength": 255},
                "flavorRef": FLAVOR_REF,
                "adminPass": {"type": "string"},
                "metadata": METADATA,
                "networks": {"oneOf": [{"type": "array"},
                                       {"type": "string", "enum": ["none", "auto"]}]},
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
                "accessIPv4": IPV4,
                "accessIPv6": IPV6,
                "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
                "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "user_data": {"type": "string", "maxLength": 65535},
                "config_drive": BOOLEAN,
                "min_count": COUNT,
                "max_count": COUNT,
                "return_reservation_id": BOOLEAN,
                "security_groups": {"type": "array", "items": {"type": "object"}},
                "block_device_mapping_v2": {"type": "array", "items": BLOCK_DEVICE},
                "block_device_mapping": {"type": "array"},
                "description": DESCRIPTION,
                "tags": TAGS,
                "trusted_image_certificates": {"type": ["array", "null"]},
                "host": {"type": "string"},
                "hypervisor_hostname": {"type": "string"},
                "personality": {"type": "array"},
            },
            "required": ["name", "flavorRef"],
            "additionalProperties": False,
        },
        "os:scheduler_hints": {"type": "object"},
        "OS-SCH-HNT:scheduler_hints": {"type": "object"},
    },
    "required": ["server"],
    "additionalProperties": False,
}

SERVER_UPDATE = {
    "type": "object",
    "properties": {"server": {
        "type": "object",
        "properties": {"name": SERVER_NAME, "description": DESCRIPTION,
                       "accessIPv4": IPV4, "accessIPv6": IPV6,
                       "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]}},
        "additionalProperties": False}},
    "required": ["server"],
    "additionalProperties": False,
}

REBUILD = {
    "type": "object",
    "properties": {
        "imageRef": {"type": "string", "minLength": 1},
        "name": SERVER_NAME,
        "adminPass": {"type": "string"},
        "metadata": METADATA,
        "preserve_ephemeral": {"type": "boolean"},
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
        "accessIPv4": IPV4, "accessIPv6": IPV6,
        "description": DESCRIPTION,
        "key_name": {"type": ["string", "null"]},
        "user_data": {"type": ["string", "null"], "maxLength": 65535},
        "trusted_image_certificates": {"type": ["array", "null"]},
        "personality": {"type": "array"},
    },
    "required": ["imageRef"],
    "additionalProperties": False,
}

FLAVOR_CREATE = {
    "type": "object",
    "properties": {"flavor": {
        "type": "object",
        "properties": {
            "name": NAME,
            "id": {"type": ["string", "integer", "null"], "minLength": 1, "maxLength": 255,
                   "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
            "ram": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
            "vcpus": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
            "disk": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 0},
            "OS-FLV-EXT-DATA:ephemeral": {"type": ["integer", "string"],
                                          "pattern": r"^[0-9]*$", "minimum": 0},
            "swap": {"type": ["integer", "string"], "pattern": r"^[0-9]*$", "minimum": 0},
            "rxtx_factor": {"type": ["number", "string"], "minimum": 0,
                            "exclusiveMinimum": 0},
            "os-flavor-access:is_public": BOOLEAN,
            "description": DESCRIPTION,
        },
        "required": ["name", "ram", "vcpus", "disk"],
        "additionalProperties": False}},
    "required": ["flavor"],
    "additionalProperties": False,
}

FLAVOR_UPDATE = {
    "type": "object",
    "properties": {"flavor": {"type": "object", "properties": {"description": DESCRIPTION},
                              "required": ["description"], "additionalProperties": False}},
    "required": ["flavor"],
    "additionalProperties": False,
}

EXTRA_SPECS = {
    "type": "object",
    "properties": {"extra_specs": {
        "type": "object",
        "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {
            "type": ["string", "number", "boolean"], "maxLength": 255}},
        "additionalProperties": False}},
    "required": ["extra_specs"],
    "additionalProperties": False,
}

FLAVOR_ACCESS = {
    "type": "object",
    "properties": {
        "addTenantAccess": {"type": "object", "properties": {"tenant": {"type": "string"}},
                            "required": ["tenant"]},
        "removeTenantAccess": {"type": "object", "properties": {"tenant": {"type": "string"}},
                               "required": ["tenant"]},
    },
    "minProperties": 1, "maxProperties": 1,
}

KEYPAIR_CREATE = {
    "type": "object",
    "properties": {"keypair": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255,
                     "pattern": r"^[a-zA-Z0-9 _.@-]+$"},
            "public_key": {"type": "string"},
            "type": {"type": "string", "enum": ["ssh", "x509"]},
            "user_id": {"type": "string"},
        },
        "required": ["name"],
        "additionalProperties": False}},
    "required": ["keypair"],
    "additionalProperties": False,
}

METADATA_BODY = {"type": "object", "properties": {"metadata": METADATA},
                 "required": ["metadata"], "additionalProperties": False}
METADATA_ITEM = {"type": "object",
                 "properties": {"meta": {**METADATA, "minProperties": 1, "maxProperties": 1}},
                 "required": ["meta"], "additionalProperties": False}
TAGS_BODY = {"type": "object", "properties": {"tags": TAGS}, "required": ["tags"],
             "additionalProperties": False}

SERVER_GROUP_CREATE = {
    "type": "object",
    "properties": {"server_group": {
        "type": "object",
        "properties": {
            "name": NAME,
            "policies": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "string",
                "enum": ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"]}},
            "policy": {"type": "string", "enum": ["affinity", "anti-affinity",
                                                  "soft-affinity", "soft-anti-affinity"]},
            "rules": {"type": "object", "properties": {
                "max_server_per_host": {"type": ["integer", "string"],
                                        "pattern": r"^[0-9]+$", "minimum": 1}},
                "additionalProperties": False},
        },
        "required": ["name"],
        "additionalProperties": False}},
    "required": ["server_group"],
    "additionalProperties": False,
}

QUOTA_RESOURCES = ["instances", "cores", "ram", "key_pairs", "metadata_items",
                   "server_groups", "server_group_members", "injected_files",
                   "injected_file_content_bytes", "injected_file_path_bytes",
                   "fixed_ips", "floating_ips", "security_groups", "security_group_rules",
                   "networks"]
QUOTA_UPDATE = {
    "type": "object",
    "properties": {"quota_set": {
        "type": "object",
        "properties": {**{name: {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$",
                                 "minimum": -1} for name in QUOTA_RESOURCES},
                       "force": BOOLEAN},
        "additionalProperties": False}},
    "required": ["quota_set"],
    "additionalProperties": False,
}

SERVICE_UPDATE = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["enabled", "disabled"]},
                   "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
                   "forced_down": BOOLEAN, "host": {"type": "string"},
                   "binary": {"type": "string"}},
    "additionalProperties": False,
}


def truthy(value) -> bool:
    """Nova's strutils.bool_from_string for the schema's BOOLEAN values."""
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1", "yes", "on", "y", "t")
