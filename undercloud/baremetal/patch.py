"""JSON patch (RFC 6902's add, replace and remove) on node and port documents, as Ironic
checks and applies it: only listed root fields, no new root attributes, one op at a time so a
failure names the op that failed."""
import copy
import json
import re

from undercloud.common.errors import BadRequest

OPERATIONS = ("add", "replace", "remove")
_SECRET_WORDS = ("password", "secret", "token")
# Ironic's path rule before 1.98: slash-separated words of letters, digits, _ and -.
_PATH = re.compile(r"^(/[\w-]+)+$")


def parse(body) -> list[dict]:
    """The operations of a PATCH body, or 400 naming what is malformed."""
    if not isinstance(body, list):
        raise BadRequest("Invalid input for field/attribute patch: the patch must be a JSON "
                         "list of operations.")
    for operation in body:
        if not isinstance(operation, dict):
            raise BadRequest("Invalid patch operation: each operation is an object with op, "
                             "path and (for add and replace) value.")
        unknown = sorted(set(operation) - {"op", "path", "value"})
        if unknown:
            raise BadRequest(f"Invalid patch operation: unknown member(s) {', '.join(unknown)}.")
        if operation.get("op") not in OPERATIONS:
            raise BadRequest(f"Invalid patch operation {operation.get('op')!r}: use one of "
                             f"{', '.join(OPERATIONS)}.")
        path = operation.get("path")
        if not isinstance(path, str) or not _PATH.match(path):
            raise BadRequest(f"Invalid patch path {path!r}: it must look like /field or "
                             "/field/key (letters, digits, _ and -).")
        if operation["op"] != "remove" and "value" not in operation:
            raise BadRequest(f"Operation '{operation['op']}' on {path} needs a 'value'.")
    return body


def root_fields(operations: list[dict]) -> set[str]:
    return {operation["path"].split("/")[1] for operation in operations}


def check_allowed(operations: list[dict], allowed: tuple[str, ...]):
    for operation in operations:
        if operation["path"].split("/")[1] not in allowed:
            raise BadRequest(f"Cannot patch {operation['path']}. Only the following can be "
                             f"updated: {', '.join(allowed)}")


def values_at(operations: list[dict], path: str) -> list:
    """The values the patch writes to exactly `path`."""
    return [op["value"] for op in operations if op["path"] == path and op["op"] != "remove"]


def touches(operations: list[dict], path: str) -> bool:
    return any(op["path"] == path or op["path"].startswith(path + "/") for op in operations)


def apply(document: dict, operations: list[dict]) -> dict:
    """The patched copy of `document`; 400 naming the operation that cannot apply."""
    document = copy.deepcopy(document)
    for operation in operations:
        if (operation["op"] == "add" and operation["path"].count("/") == 1
                and operation["path"][1:] not in document):
            raise BadRequest(f"Adding a new attribute ({operation['path']}) to the root of the "
                             "resource is not allowed")
    for operation in operations:
        try:
            _apply_one(document, operation)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BadRequest(f"Couldn't apply patch '{describe(operation)}'. Reason: "
                             f"{exc}") from None
    return document


def describe(operation: dict) -> str:
    """The operation as JSON for an error message, a secret's value masked."""
    if any(word in operation["path"].lower() for word in _SECRET_WORDS) and "value" in operation:
        operation = {**operation, "value": "******"}
    return json.dumps(operation)


def _apply_one(document: dict, operation: dict):
    *parents, last = operation["path"].lstrip("/").split("/")
    container = document
    for part in parents:
        container = _child(container, part)
        if container is None:
            raise KeyError(f"can't replace a member of {part}: it is null")
    op = operation["op"]
    if isinstance(container, list):
        if last == "-" and op == "add":
            container.append(operation["value"])
            return
        index = int(last)
        if op == "add":
            if not 0 <= index <= len(container):
                raise IndexError(f"index {index} is out of range")
            container.insert(index, operation["value"])
        elif op == "replace":
            container[index] = operation["value"]
        else:
            del container[index]
        return
    if not isinstance(container, dict):
        raise TypeError(f"can't address '{last}' inside a {type(container).__name__}")
    if op == "add":
        container[last] = operation["value"]
    elif op == "replace":
        if last not in container:
            raise KeyError(f"can't replace a non-existent object '{last}'")
        container[last] = operation["value"]
    else:
        if last not in container:
            raise KeyError(f"can't remove a non-existent object '{last}'")
        del container[last]


def _child(container, part: str):
    if isinstance(container, list):
        return container[int(part)]
    if isinstance(container, dict):
        if part not in container:
            raise KeyError(f"member '{part}' not found")
        return container[part]
    raise TypeError(f"can't address '{part}' inside a {type(container).__name__}")
