"""Changing an image's attributes, properties and tags by Glance's rules (create and PATCH)."""
from flask import g

from undercloud.common import errors
from undercloud.image import policy
from undercloud.image.models import Image
from undercloud.image.patch import Change

# The columns a client may write; other names are free-form properties.
WRITABLE = ("name", "visibility", "protected", "os_hidden", "owner", "container_format",
            "disk_format", "min_ram", "min_disk", "tags")


def set_attribute(image: Image, tags: list, name: str, value, *, creating: bool = False):
    """Set one writable column on the (unsaved) image, refusing what Glance refuses."""
    if name == "tags":
        tags[:] = list(dict.fromkeys(value))
        return
    if name == "owner" and not creating and value != image.owner and not g.context.is_admin:
        raise errors.Forbidden("Owner can't be updated by non admin.")
    if name == "visibility" and value != image.visibility:
        policy.enforce_visibility(value, image)
    if name in ("container_format", "disk_format") and not creating \
            and value != getattr(image, name) and image.status not in ("queued", "importing"):
        raise errors.Forbidden(f"Attribute {name} can be only replaced for a queued image.")
    if name in ("min_ram", "min_disk") and value is not None and value < 0:
        raise errors.BadRequest(f"Invalid value '{value}' for parameter '{name}': "
                                "Cannot be a negative value")
    if name in ("min_ram", "min_disk") and value is not None and value >= 2 ** 31:
        raise errors.BadRequest(f"Invalid value '{value}' for parameter '{name}': "
                                f"it must be below {2 ** 31}")
    setattr(image, name, value)


def apply(image: Image, properties: dict, tags: list, changes: list[Change]):
    """Apply parsed PATCH changes in order to the image, its properties dict and tags list."""
    for change in changes:
        name = change.name
        if name in WRITABLE:
            if change.op == "remove":
                raise errors.Forbidden(f"Property {name} may not be removed.")
            if change.op == "add" and change.draft == 4:
                raise errors.Conflict(f"Property {name} already present.")
            set_attribute(image, tags, name, change.value)
        elif change.op == "remove":
            if name not in properties:
                raise errors.Conflict(f"Property {name} does not exist.")
            del properties[name]
        elif change.op == "replace" and name not in properties:
            raise errors.Conflict(f"Property {name} does not exist.")
        elif change.op == "add" and change.draft == 4 and name in properties:
            raise errors.Conflict(f"Property {name} already present.")
        else:
            properties[name] = change.value


def check_limits(config, properties: dict, tags: list):
    """413 when an image would carry more properties or tags than the site allows."""
    for kind, count, limit in (("properties", len(properties),
                                config["image"]["image_property_quota"]),
                               ("tags", len(tags), config["image"]["image_tag_quota"])):
        if limit >= 0 and count > limit:
            raise errors.PayloadTooLarge(f"Maximum number of image {kind} exceeded: "
                                         f"attempted {count}, maximum {limit}.")
