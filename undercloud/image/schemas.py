"""The JSON schemas Glance publishes at /v2/schemas/..., which clients read and we validate with.

Their structure follows Glance's api-ref (schemas-image-show-response.json and friends) with
the four visibilities Glance v2 really accepts, and the operator properties of Glance's
default etc/schema-image.json (kernel_id, os_distro, ...; marked "is_base": false).
"""
import copy

import jsonschema

CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop"]
STATUSES = ["queued", "saving", "active", "killed", "deleted", "uploading", "importing",
            "pending_delete", "deactivated"]
VISIBILITIES = ["community", "public", "private", "shared"]
MEMBER_STATUSES = ["pending", "accepted", "rejected"]
UUID_PATTERN = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$")

# The image attributes that are columns (Glance's "base properties"); the rest are extra.
BASE_ATTRIBUTES = ("id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
                   "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size",
                   "container_format", "disk_format", "created_at", "updated_at", "tags",
                   "min_ram", "min_disk")
# What a client may never write (Glance answers 403 "Attribute '...' is read-only.").
READ_ONLY = ("created_at", "updated_at", "status", "checksum", "size", "virtual_size",
             "direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value",
             "stores")
# Names Glance reserves for itself (403 "Attribute '...' is reserved.").
RESERVED = ("location", "locations", "deleted", "deleted_at")
RESERVED_PREFIX = "os_glance"


def _nullable(kind):
    return ["null", kind]


BASE_PROPERTIES = {
    "id": {"type": "string", "description": "An identifier for the image",
           "pattern": UUID_PATTERN},
    "name": {"type": _nullable("string"), "description": "Descriptive name for the image",
             "maxLength": 255},
    "status": {"type": "string", "readOnly": True, "description": "Status of the image",
               "enum": STATUSES},
    "visibility": {"type": "string", "description": "Scope of image accessibility",
                   "enum": VISIBILITIES},
    "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
    "os_hidden": {"type": "boolean",
                  "description": "If true, image will not appear in default image list "
                                 "response."},
    "checksum": {"type": _nullable("string"), "readOnly": True,
                 "description": "md5 hash of image contents.", "maxLength": 32},
    "os_hash_algo": {"type": _nullable("string"), "readOnly": True,
                     "description": "Algorithm to calculate the os_hash_value",
                     "maxLength": 64},
    "os_hash_value": {"type": _nullable("string"), "readOnly": True,
                      "description": "Hexdigest of the image contents using the algorithm "
                                     "specified by the os_hash_algo",
                      "maxLength": 128},
    "owner": {"type": _nullable("string"), "description": "Owner of the image",
              "maxLength": 255},
    "size": {"type": _nullable("integer"), "readOnly": True,
             "description": "Size of image file in bytes"},
    "virtual_size": {"type": _nullable("integer"), "readOnly": True,
                     "description": "Virtual size of image in bytes"},
    "container_format": {"type": _nullable("string"), "description": "Format of the container",
                         "enum": [None, *CONTAINER_FORMATS]},
    "disk_format": {"type": _nullable("string"), "description": "Format of the disk",
                    "enum": [None, *DISK_FORMATS]},
    "created_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of image registration"},
    "updated_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of the last image modification"},
    "tags": {"type": "array", "description": "List of strings related to the image",
             "items": {"type": "string", "maxLength": 255}},
    "direct_url": {"type": "string", "readOnly": True,
                   "description": "URL to access the image file kept in external store"},
    "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
    "min_disk": {"type": "integer",
                 "description": "Amount of disk space (in GB) required to boot image."},
    "self": {"type": "string", "readOnly": True, "description": "An image self url"},
    "file": {"type": "string", "readOnly": True, "description": "An image file url"},
    "stores": {"type": "string", "readOnly": True,
               "description": "Store in which image data resides.  Only present when the "
                              "operator has enabled multiple stores.  May be a "
                              "comma-separated list of store identifiers."},
    "schema": {"type": "string", "readOnly": True, "description": "An image schema url"},
    "locations": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "maxLength": 255},
                "metadata": {"type": "object"},
                "validation_data": {
                    "description": "Values to be used to populate the corresponding image "
                                   "properties. If the image status is not 'queued', values "
                                   "must exactly match those already contained in the image "
                                   "properties.",
                    "type": "object",
                    "writeOnly": True,
                    "additionalProperties": False,
                    "properties": {
                        "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
                        "os_hash_algo": {"type": "string", "maxLength": 64},
                        "os_hash_value": {"type": "string", "maxLength": 128},
                    },
                    "required": ["os_hash_algo", "os_hash_value"],
                },
            },
            "required": ["url", "metadata"],
        },
        "description": "A set of URLs to access the image file kept in external store",
    },
}

# Glance's default etc/schema-image.json: operator-defined properties stored as extras.
OPERATOR_PROPERTIES = {
    "kernel_id": {"type": _nullable("string"), "pattern": UUID_PATTERN,
                  "description": "ID of image stored in Glance that should be used as the "
                                 "kernel when booting an AMI-style image."},
    "ramdisk_id": {"type": _nullable("string"), "pattern": UUID_PATTERN,
                   "description": "ID of image stored in Glance that should be used as the "
                                  "ramdisk when booting an AMI-style image."},
    "instance_uuid": {"type": "string",
                      "description": "Metadata which can be used to record which instance "
                                     "this image is associated with. (Informational only, "
                                     "does not create an instance snapshot.)"},
    "architecture": {"type": "string",
                     "description": "Operating system architecture as specified in "
                                    "https://docs.openstack.org/python-glanceclient/latest/"
                                    "cli/property-keys.html"},
    "os_distro": {"type": "string",
                  "description": "Common name of operating system distribution as specified "
                                 "in https://docs.openstack.org/python-glanceclient/latest/"
                                 "cli/property-keys.html"},
    "os_version": {"type": "string",
                   "description": "Operating system version as specified by the distributor."},
    "description": {"type": "string",
                    "description": "A human-readable string describing this image."},
    "cinder_encryption_key_id": {
        "type": "string",
        "description": "Identifier in the OpenStack Key Management Service for the encryption "
                       "key for the Block Storage Service to use when mounting a volume "
                       "created from this image"},
    "cinder_encryption_key_deletion_policy": {
        "type": "string", "enum": ["on_image_deletion", "do_not_delete"],
        "description": "States the condition under which the Image Service will delete the "
                       "object associated with the 'cinder_encryption_key_id' image property.  "
                       "If this property is missing, the Image Service will take no action"},
}

IMAGE_LINKS = [{"rel": "self", "href": "{self}"},
               {"rel": "enclosure", "href": "{file}"},
               {"rel": "describedby", "href": "{schema}"}]

MEMBER_PROPERTIES = {
    "member_id": {"type": "string",
                  "description": "An identifier for the image member (tenantId)"},
    "image_id": {"type": "string", "description": "An identifier for the image",
                 "pattern": UUID_PATTERN},
    "created_at": {"type": "string", "description": "Date and time of image member creation"},
    "updated_at": {"type": "string",
                   "description": "Date and time of last modification of image member"},
    "status": {"type": "string", "description": "The status of this image member",
               "enum": MEMBER_STATUSES},
    "schema": {"readOnly": True, "type": "string"},
}


def image() -> dict:
    """/v2/schemas/image: additional properties are allowed, as strings (a permissive schema)."""
    properties = copy.deepcopy(BASE_PROPERTIES)
    for name, definition in OPERATOR_PROPERTIES.items():
        properties[name] = {**copy.deepcopy(definition), "is_base": False}
    return {"name": "image", "properties": properties,
            "additionalProperties": {"type": "string"}, "links": copy.deepcopy(IMAGE_LINKS)}


def member() -> dict:
    return {"name": "member", "properties": copy.deepcopy(MEMBER_PROPERTIES),
            "additionalProperties": False}


def _collection(name: str, item: dict) -> dict:
    return {"name": name,
            "properties": {name: {"type": "array", "items": item},
                           "first": {"type": "string"}, "next": {"type": "string"},
                           "schema": {"type": "string"}},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def images() -> dict:
    return _collection("images", image())


def members() -> dict:
    return _collection("members", member())


IMAGE_VALIDATOR = jsonschema.Draft4Validator(image())


def problem(document: dict) -> str | None:
    """Why `document` (a whole or partial image) breaks the image schema, or None."""
    error = jsonschema.exceptions.best_match(IMAGE_VALIDATOR.iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "image"
    return f"Provided object does not match schema 'image': {error.message} (at {where})"
