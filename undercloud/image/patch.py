"""PATCH /v2/images/{id}: Glance's JSON-patch media types, parsed and checked as Glance does.

application/openstack-images-v2.1-json-patch is RFC 6902 ({"op": "add", "path": "/x",
"value": ...}); the older v2.0 type writes the op as the key ({"add": "/x", "value": ...}).
Paths are one level deep ("/name", "/tags", "/os_distro"); there is no "/tags/-".
"""
import re
from dataclasses import dataclass
from typing import Any

from undercloud.common import errors
from undercloud.image import schemas

MEDIA_TYPES = {"application/openstack-images-v2.0-json-patch": 4,
               "application/openstack-images-v2.1-json-patch": 10}
OPERATIONS = ("add", "remove", "replace")


@dataclass
class Change:
    op: str
    name: str            # the one path segment, decoded
    value: Any = None
    draft: int = 10


def _operation(raw: dict, draft: int) -> tuple[str, str]:
    if draft == 10:
        op = raw.get("op")
        if op is None:
            raise errors.BadRequest("Unable to find `op` in JSON Schema change. It must be one "
                                    f"of the following: {', '.join(OPERATIONS)}.")
        if op not in OPERATIONS:
            raise errors.BadRequest(f"Invalid operation: `{op}`. It must be one of the "
                                    f"following: {', '.join(OPERATIONS)}.")
        if "path" not in raw:
            raise errors.BadRequest("Unable to find 'path' in JSON Schema change")
        return op, raw["path"]
    ops = [key for key in OPERATIONS if key in raw]
    if len(ops) != 1:
        raise errors.BadRequest('Operation objects must contain exactly one member named '
                                '"add", "remove", or "replace".')
    return ops[0], raw[ops[0]]


def _decode_pointer(pointer) -> list[str]:
    if not isinstance(pointer, str):
        raise errors.BadRequest(f"Pointer {pointer!r} is not a string.")
    if not pointer.startswith("/"):
        raise errors.BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise errors.BadRequest(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise errors.BadRequest(f'Pointer `{pointer}` end with "/".')
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise errors.BadRequest(f'Pointer `{pointer}` contains "~" not part of a recognized '
                                "escape sequence.")
    return [part.replace("~1", "/").replace("~0", "~").strip()
            for part in pointer.lstrip("/").split("/")]


def check_name(name: str, *, creating: bool):
    """403 for names clients may not write, 400 for names too long to store."""
    if name in schemas.READ_ONLY and not (creating and name == "id"):
        raise errors.Forbidden(f"Attribute '{name}' is read-only.")
    if name in schemas.RESERVED or name.startswith(schemas.RESERVED_PREFIX):
        raise errors.Forbidden(f"Attribute '{name}' is reserved.")
    if not name or len(name) > 255:
        raise errors.BadRequest("Custom property should not be greater than 255 characters "
                                "(nor empty).")


def parse(content_type: str | None, body) -> list[Change]:
    """The changes a PATCH body asks for, or the 4xx Glance answers for a bad one."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        allowed = ", ".join(sorted(MEDIA_TYPES))
        raise errors.UnsupportedMediaType(
            f"Image PATCH expects Content-Type one of: {allowed}",
            headers={"Accept-Patch": allowed})
    draft = MEDIA_TYPES[media_type]
    if not isinstance(body, list):
        raise errors.BadRequest("Request body must be a JSON array of operation objects.")
    changes = []
    for raw in body:
        if not isinstance(raw, dict):
            raise errors.BadRequest("Operations must be JSON objects.")
        op, pointer = _operation(raw, draft)
        path = _decode_pointer(pointer)
        if path[0] == "locations":
            raise errors.Forbidden("It's not allowed to add or change locations if locations "
                                   "are invisible.")
        if len(path) != 1 or not path[0]:
            raise errors.BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
        name = path[0]
        check_name(name, creating=False)
        change = Change(op, name, draft=draft)
        if op != "remove":
            if "value" not in raw:
                raise errors.BadRequest(f'Operation "{op}" requires a member named "value".')
            change.value = raw["value"]
            problem = schemas.problem({name: change.value})
            if problem:
                raise errors.BadRequest(problem)
        changes.append(change)
    return changes
