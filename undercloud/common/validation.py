"""Request bodies: parse JSON and check it against a JSON Schema, naming the failing field."""
import functools
import json

import jsonschema
from flask import g, request

from undercloud.common.errors import BadRequest

_VALIDATORS: dict[int, jsonschema.Draft202012Validator] = {}


def json_body(required: bool = True):
    """The request's JSON document, or 400 saying why it cannot be read."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise BadRequest("The request body is empty; a JSON document is required.")
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Malformed request body: {exc}.") from None


def _field(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return f"{path}/{missing}".strip("/")
    if error.validator == "additionalProperties":
        return path or "body"
    return path or "body"


def check(document, schema: dict):
    """Raise 400 naming the first field that does not fit the schema."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS[id(schema)] = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return
    value = error.instance if error.validator not in ("required",) else None
    detail = f"Invalid input for field/attribute {_field(error)}."
    if value is not None and error.validator != "additionalProperties":
        detail += f" Value: {json.dumps(value, default=str)[:200]}."
    raise BadRequest(f"{detail} {error.message}")


def validate(schema: dict):
    """Decorator: the view runs only with a body that fits `schema`, found in g.body."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.body = json_body()
            check(g.body, schema)
            return view(*args, **kwargs)
        return wrapper
    return decorate
