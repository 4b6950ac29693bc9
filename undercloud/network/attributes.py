"""Request bodies the Neutron way: {"network": {...}} (or {"networks": [...]} in bulk), each
attribute declared once with whether POST and PUT may set it and how its value is checked.

    NETWORK = {"name": Attribute(check=string()), "shared": Attribute(check=boolean), ...}
    values = attributes.parse("network", NETWORK, document, creating=True)

A check returns the normalized value or raises ValueError with the reason; the 400 names the
attribute, as Neutron's "Invalid input for name. Reason: ...".
"""
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Callable

from undercloud.common import validation
from undercloud.common.errors import BadRequest

PROJECT = ("tenant_id", "project_id")


@dataclass(frozen=True)
class Attribute:
    post: bool = True
    put: bool = True
    required: bool = False
    check: Callable | None = None


def body(resource: str, collection: str | None = None):
    """The request's {resource: {...}} (a dict) or, when collection is given and the body
    holds {collection: [...]}, that list (a bulk create)."""
    document = validation.json_body()
    if not isinstance(document, dict):
        raise BadRequest("Body contains invalid data")
    if collection and collection in document:
        items = document[collection]
        if not isinstance(items, list) or not items \
                or not all(isinstance(item, dict) for item in items):
            raise BadRequest(f"Invalid input for {collection}. Reason: a non-empty list of "
                             f"{resource} objects is expected.")
        return items
    if resource not in document:
        raise BadRequest(f"Unable to find '{resource}' in request body")
    if not isinstance(document[resource], dict):
        raise BadRequest(f"Invalid input for {resource}. Reason: it must be an object.")
    return document[resource]


def parse(resource: str, spec: dict[str, Attribute], document: dict, creating: bool) -> dict:
    """The document's attributes, checked and normalized; 400 for unknown, read-only,
    missing or bad ones."""
    unknown = sorted(set(document) - set(spec) - set(PROJECT))
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    values = {}
    for name, value in document.items():
        if name in PROJECT:
            if not creating:
                raise BadRequest(f"Cannot update read-only attribute {name}")
            values[name] = value
            continue
        attribute = spec[name]
        if creating and not attribute.post:
            raise BadRequest(f"Attribute '{name}' not allowed in POST")
        if not creating and not attribute.put:
            raise BadRequest(f"Cannot update read-only attribute {name}")
        if attribute.check is not None:
            try:
                value = attribute.check(value)
            except ValueError as exc:
                raise BadRequest(f"Invalid input for {name}. Reason: {exc}.") from None
        values[name] = value
    if creating:
        missing = [name for name, attribute in spec.items()
                   if attribute.required and name not in values]
        if missing:
            raise BadRequest(f"Failed to parse request. Required attribute '{missing[0]}' not "
                             "specified")
    return values


# ---- checks -----------------------------------------------------------------------------------

def string(max_length: int = 255, nullable: bool = False):
    def check(value):
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise ValueError(f"'{value}' is not a valid string")
        if len(value) > max_length:
            raise ValueError(f"'{value}' exceeds maximum length of {max_length}")
        return value
    return check


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise ValueError(f"'{value}' cannot be converted to boolean")


def integer(minimum: int | None = None, maximum: int | None = None, nullable: bool = False):
    def check(value):
        if value is None and nullable:
            return None
        if isinstance(value, bool):
            raise ValueError(f"'{value}' is not an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"'{value}' is not an integer") from None
        if minimum is not None and number < minimum:
            raise ValueError(f"'{number}' should be greater than or equal to {minimum}")
        if maximum is not None and number > maximum:
            raise ValueError(f"'{number}' should be less than or equal to {maximum}")
        return number
    return check


def uuid_like(nullable: bool = False):
    def check(value):
        if value is None and nullable:
            return None
        try:
            uuid.UUID(str(value))
        except ValueError:
            raise ValueError(f"'{value}' is not a valid UUID") from None
        return str(value)
    return check


def ip_address(nullable: bool = False):
    def check(value):
        if value is None and nullable:
            return None
        try:
            address = ipaddress.ip_address(value)
        except (TypeError, ValueError):
            raise ValueError(f"'{value}' is not a valid IP address") from None
        if str(value) != str(address) and ":" not in str(value):
            raise ValueError(f"'{value}' is not an accepted IP address, '{address}' is "
                             "recommended")
        return str(address)
    return check


def cidr(value) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        raise ValueError(f"'{value}' is not a valid IP subnet") from None
    return network.with_prefixlen if "/" in str(value) else str(network)


def one_of(*choices, nullable: bool = False):
    def check(value):
        if value is None and nullable:
            return None
        if value not in choices:
            raise ValueError(f"'{value}' is not in {list(choices)}")
        return value
    return check


def list_of(item: Callable | None = None, unique: bool = False):
    def check(value):
        if not isinstance(value, list):
            raise ValueError(f"'{value}' is not a list")
        items = [item(v) for v in value] if item else list(value)
        if unique and len({repr(i) for i in items}) != len(items):
            duplicates = sorted({repr(i) for i in items if items.count(i) > 1})
            raise ValueError(f"Duplicate items in the list: '{', '.join(duplicates)}'")
        return items
    return check


def anything(value):
    return value


def dictionary(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"'{value}' is not a dictionary")
    return value
