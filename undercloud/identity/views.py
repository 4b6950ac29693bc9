"""Identity resources as Keystone's api-ref renders them, and Keystone-style collections.

Every resource carries links.self; attributes a client sent that have no column of
their own (a user's email, ...) are kept in `extra` and come back at the top level.
"""
import datetime
from urllib.parse import urlencode

from flask import request

from undercloud.common import paging, versions
from undercloud.common.errors import BadRequest

# Keystone's own keys, which an extra attribute may never shadow.
RESERVED = {"id", "links", "extra", "password", "password_hash", "password_expires_at"}


def url(path: str) -> str:
    """The absolute URL of an identity path under /v3 (path without the leading /v3/)."""
    return f"{versions.base_url()}/v3/{path.lstrip('/')}"


def links(path: str) -> dict:
    return {"self": url(path)}


def timestamp(value: datetime.datetime | None) -> str | None:
    """Keystone's format: 2016-11-06T15:32:17.000000 (UTC, microseconds, no zone)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def _extra(row) -> dict:
    return {k: v for k, v in (row.extra or {}).items() if k not in RESERVED}


def domain(row) -> dict:
    extra = _extra(row)
    options = extra.pop("options", {})  # domains keep their options in extra (no column)
    return {"id": row.id, "name": row.name, "description": row.description,
            "enabled": row.enabled, "tags": list(row.tags or []), "options": options,
            **extra, "links": links(f"domains/{row.id}")}


def domain_as_project(row) -> dict:
    """A domain seen through /v3/projects: Keystone's project acting as a domain."""
    extra = _extra(row)
    options = extra.pop("options", {})
    return {"id": row.id, "name": row.name, "domain_id": None,
            "description": row.description, "enabled": row.enabled, "parent_id": None,
            "is_domain": True, "tags": list(row.tags or []), "options": options,
            **extra, "links": links(f"projects/{row.id}")}


def project(row) -> dict:
    return {"id": row.id, "name": row.name, "domain_id": row.domain_id,
            "description": row.description, "enabled": row.enabled,
            # Keystone: a top-level project's parent is its domain.
            "parent_id": row.parent_id or row.domain_id, "is_domain": False,
            "tags": list(row.tags or []), "options": dict(row.options or {}),
            **_extra(row), "links": links(f"projects/{row.id}")}


def user(row) -> dict:
    body = {"id": row.id, "name": row.name, "domain_id": row.domain_id,
            "enabled": row.enabled,
            "password_expires_at": timestamp(row.password_expires_at),
            "options": dict(row.options or {})}
    if row.default_project_id:
        body["default_project_id"] = row.default_project_id
    if row.description:
        body["description"] = row.description
    body.update(_extra(row))
    body["links"] = links(f"users/{row.id}")
    return body


def group(row) -> dict:
    return {"id": row.id, "name": row.name, "domain_id": row.domain_id,
            "description": row.description, **_extra(row),
            "links": links(f"groups/{row.id}")}


def role(row) -> dict:
    return {"id": row.id, "name": row.name, "domain_id": row.domain_id,
            "description": row.description or None, "options": dict(row.options or {}),
            **_extra(row), "links": links(f"roles/{row.id}")}


def role_reference(row) -> dict:
    """A role inside an implied-role answer: id, name and link only."""
    return {"id": row.id, "name": row.name, "links": links(f"roles/{row.id}")}


def region(row) -> dict:
    return {"id": row.id, "description": row.description,
            "parent_region_id": row.parent_region_id, **_extra(row),
            "links": links(f"regions/{row.id}")}


def service(row) -> dict:
    body = {"id": row.id, "type": row.type, "name": row.name, "enabled": row.enabled}
    if row.description:
        body["description"] = row.description
    body.update(_extra(row))
    body["links"] = links(f"services/{row.id}")
    return body


def endpoint(row) -> dict:
    return {"id": row.id, "interface": row.interface, "service_id": row.service_id,
            "region_id": row.region_id, "region": row.region_id, "url": row.url,
            "enabled": row.enabled, **_extra(row), "links": links(f"endpoints/{row.id}")}


def as_boolean(text) -> bool:
    """A query value as Keystone reads booleans: 0/false/no/off are false, anything else true."""
    if isinstance(text, bool):
        return text
    return str(text).strip().lower() not in ("0", "false", "f", "no", "n", "off")


def _flat(ref: dict, prefix="") -> dict:
    flat = {}
    for key, value in ref.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _matches(value, wanted: str) -> bool:
    if isinstance(value, bool):
        return value == as_boolean(wanted)
    if value is None:
        return wanted in ("", "None", "null")
    return str(value) == wanted


_INEXACT = {"contains": lambda v, w: w in v, "startswith": str.startswith,
            "endswith": str.endswith}


def _inexact(value, comparator: str, wanted: str) -> bool:
    if not isinstance(value, str):
        return False
    if comparator.startswith("i") and comparator[1:] in _INEXACT:
        return _INEXACT[comparator[1:]](value.lower(), wanted.lower())
    test = _INEXACT.get(comparator)
    return test(value, wanted) if test else True  # Keystone ignores unknown comparators


def filtered(refs: list[dict], filters) -> list[dict]:
    """The refs matching the query's exact (name=x) and inexact (name__icontains=x) filters."""
    for key, wanted in request.args.items(multi=True):
        name, _, comparator = key.partition("__")
        if name not in filters:
            continue
        if comparator:
            refs = [r for r in refs if _inexact(_flat(r).get(name), comparator, wanted)]
        else:
            refs = [r for r in refs if _matches(_flat(r).get(name), wanted)]
    return refs


def _page(refs: list[dict]) -> tuple[list[dict], int | None, bool]:
    """(this page, the limit asked for, whether more follow) from limit= and marker=."""
    marker, text = request.args.get("marker"), request.args.get("limit")
    if marker:
        ids = [r.get("id") for r in refs]
        if marker not in ids:
            raise BadRequest(f"Marker {marker} could not be found.")
        refs = refs[ids.index(marker) + 1:]
    if text is None:
        return refs, None, False
    limit = paging.parse_limit(text)
    return refs[:limit], limit, len(refs) > limit


def collection(key: str, refs: list[dict], filters=()) -> dict:
    """Keystone's list body: {key: [...], "links": {self, previous, next}} (+ truncated)."""
    refs, limit, more = _page(filtered(refs, filters))
    body = {key: refs, "links": {"next": None, "self": request.base_url, "previous": None}}
    if more and refs:
        args = {**request.args.to_dict(), "marker": refs[-1]["id"], "limit": limit}
        body["links"]["next"] = f"{request.base_url}?{urlencode(args)}"
        body["truncated"] = True
    return body
