"""How Neutron shows resources: standard attributes, timestamps, tags, `fields=` and answers.

Every resource view starts from `standard(row, tags)`; routes call `show(document)` or
`collection(...)` (in listing.py) so `fields=` is applied the same way everywhere.
"""
from collections import defaultdict

from flask import current_app, jsonify, request

from undercloud.network.models import Tag


def timestamp(moment) -> str | None:
    """Neutron's format: whole seconds, UTC, with a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def tags_by_id(resource_type: str, ids) -> dict[str, list[str]]:
    """{resource id: [tag, ...]} for a page of resources, in one query."""
    tags = defaultdict(list)
    ids = list(ids)
    if ids:
        query = Tag.select(Tag.resource_id, Tag.tag).where(
            Tag.resource_type == resource_type, Tag.resource_id.in_(ids)).order_by(Tag.tag)
        for row in query:
            tags[row.resource_id].append(row.tag)
    return tags


def standard(row, tags: list[str] | None = None) -> dict:
    """id, name, description, project, revision, timestamps and tags of any Resource row."""
    return {"id": row.id, "name": row.name, "description": row.description,
            "tenant_id": row.project_id, "project_id": row.project_id,
            "tags": list(tags or []), "created_at": timestamp(row.created_at),
            "updated_at": timestamp(row.updated_at), "revision_number": row.revision_number}


def requested_fields() -> list[str]:
    """The `fields` query arguments (repeatable, empty ones ignored, as Neutron's list_args)."""
    return [field for field in request.args.getlist("fields") if field]


def only(document: dict, fields: list[str]) -> dict:
    """The asked fields of a document (all of them when none were asked), as Neutron."""
    if not fields:
        return document
    return {name: document[name] for name in fields if name in document}


def respond(document, status: int = 200, headers: dict | None = None):
    response = jsonify(document)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def show(resource: str, document: dict, status: int = 200):
    """{resource: document} with `fields=` applied."""
    return respond({resource: only(document, requested_fields())}, status)


def no_content(status: int = 204):
    """An empty answer: 204, or 201 where Neutron creates without a body (a tag)."""
    return current_app.response_class(status=status)
