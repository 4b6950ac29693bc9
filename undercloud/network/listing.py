"""GET of any Neutron collection: filters, `fields`, sorting and limit/marker paging.

Neutron's rules: any listed attribute filters (a repeated argument means "any of"), an
unknown filter is 400 (filter-validation), sort_key/sort_dir come in pairs, `limit` pages
with `<collection>_links` (next, previous; page_reverse walks backwards), and tags,
tags-any, not-tags, not-tags-any take comma-separated tags. A collection is declared once:

    NETWORKS = listing.Collection(Network, "networks", filters={
        "name": listing.exact(Network.name), "shared": listing.boolean(Network.shared), ...},
        sort_keys={"name": Network.name, ...})
    return listing.respond(NETWORKS, query, render)   # render: rows -> documents
"""
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

import peewee
from flask import current_app, request

from undercloud.common import paging
from undercloud.common.errors import BadRequest
from undercloud.network import faults, views
from undercloud.network.models import Tag

CONTROL_ARGS = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"}
TAG_ARGS = ("tags", "tags-any", "not-tags", "not-tags-any")
TRUE, FALSE = ("true", "1", "yes", "on", "t", "y"), ("false", "0", "no", "off", "f", "n")

Filter = Callable[[list[str]], peewee.Expression]


def to_boolean(text: str) -> bool:
    if str(text).lower() in TRUE:
        return True
    if str(text).lower() in FALSE:
        return False
    raise faults.invalid_input(f"'{text}' cannot be converted to boolean")


def to_integer(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise faults.invalid_input(f"'{text}' is not an integer") from None


def exact(column, convert: Callable = str) -> Filter:
    """The column equals one of the values (converted, e.g. with to_integer)."""
    return lambda values: column.in_([convert(value) for value in values])


def boolean(column) -> Filter:
    return exact(column, to_boolean)


def nullable(column, convert: Callable = str) -> Filter:
    """Like exact, where "None" or "null" matches an empty column (e.g. gateway_ip)."""
    def condition(values):
        wanted = [convert(v) for v in values if v.lower() not in ("none", "null")]
        clause = column.in_(wanted)
        return clause | column.is_null() if len(wanted) < len(values) else clause
    return condition


@dataclass
class Collection:
    model: type
    name: str                                     # "networks": the body key and tag type
    filters: dict[str, Filter] = field(default_factory=dict)
    sort_keys: dict[str, peewee.Field] = field(default_factory=dict)
    tagged: bool = True


def standard_filters(model) -> dict[str, Filter]:
    """The filters every Neutron resource with standard attributes has."""
    return {"id": exact(model.id), "name": exact(model.name),
            "description": exact(model.description), "tenant_id": exact(model.project_id),
            "project_id": exact(model.project_id),
            "revision_number": exact(model.revision_number, to_integer)}


def standard_sort_keys(model) -> dict[str, peewee.Field]:
    return {"id": model.id, "name": model.name, "description": model.description,
            "tenant_id": model.project_id, "project_id": model.project_id,
            "created_at": model.created_at, "updated_at": model.updated_at,
            "revision_number": model.revision_number}


def _values(args, name) -> list[str]:
    return [value for value in args.getlist(name) if value]


def _tag_values(args, name) -> list[str]:
    return [tag for value in args.getlist(name) for tag in value.split(",") if tag]


def _tag_conditions(collection: Collection, args) -> list:
    model, where = collection.model, []

    def holders(tags):
        return Tag.select(Tag.resource_id).where(
            Tag.resource_type == collection.name, Tag.tag.in_(tags))

    def holders_of_all(tags):
        return holders(tags).group_by(Tag.resource_id).having(
            peewee.fn.COUNT(peewee.fn.DISTINCT(Tag.tag)) == len(set(tags)))

    tags = {name: _tag_values(args, name) for name in TAG_ARGS}
    if tags["tags"]:
        where.append(model.id.in_(holders_of_all(tags["tags"])))
    if tags["tags-any"]:
        where.append(model.id.in_(holders(tags["tags-any"])))
    if tags["not-tags"]:
        where.append(model.id.not_in(holders_of_all(tags["not-tags"])))
    if tags["not-tags-any"]:
        where.append(model.id.not_in(holders(tags["not-tags-any"])))
    return where


def conditions(collection: Collection, args=None) -> list:
    """WHERE clauses for the query's filters; 400 naming every unknown one."""
    args = request.args if args is None else args
    known = set(collection.filters) | CONTROL_ARGS | (set(TAG_ARGS) if collection.tagged
                                                      else set())
    unknown = [name for name in args if name not in known]
    if unknown:
        raise BadRequest(f"{unknown} is invalid attribute for filtering")
    where = []
    for name, condition in collection.filters.items():
        values = _values(args, name)
        if values:
            where.append(condition(values))
    if collection.tagged:
        where.extend(_tag_conditions(collection, args))
    return where


def sorting(collection: Collection, args=None) -> list[tuple]:
    """[(column, "asc"|"desc")] from paired sort_key/sort_dir; by id when none is given."""
    args = request.args if args is None else args
    keys, directions = _values(args, "sort_key"), _values(args, "sort_dir")
    if len(keys) != len(directions):
        raise BadRequest("The number of sort_keys and sort_dirs must be same")
    absent = [key for key in keys if key not in collection.sort_keys]
    if absent:
        raise BadRequest(f"{absent} is invalid attribute for sort_keys")
    invalid = [d for d in directions if d not in ("asc", "desc")]
    if invalid:
        raise BadRequest(f"{invalid} is invalid value for sort_dirs, valid value is 'asc' "
                         "and 'desc'")
    order = [(collection.sort_keys[key], direction) for key, direction in zip(keys, directions)]
    return order or [(collection.model.id, "asc")]


def _limit(args) -> int | None:
    text = args.get("limit", "0")
    try:
        limit = int(text)
    except ValueError:
        limit = -1
    if limit < 0:
        raise faults.bad_request("limit", f"Limit must be an integer 0 or greater and not "
                                          f"'{text}'")
    # No limit lists everything, as Neutron's default pagination_max_limit (-1).
    return min(limit, current_app.config["STACKBOX"]["api"]["max_page_size"]) or None


def page(query, collection: Collection, order, args=None):
    """(rows, links) of one page; page_reverse walks back from the marker."""
    args = request.args if args is None else args
    limit, marker = _limit(args), args.get("marker") or None
    reverse = args.get("page_reverse", "false").lower() == "true"
    walk = [(column, {"asc": "desc", "desc": "asc"}[d] if reverse else d) for column, d in order]
    rows = paging.paginate(query, collection.model, walk, limit, marker)
    if reverse:
        rows.reverse()
    return rows, _links(rows, limit, reverse, args)


def _link(rel, marker, args, reverse):
    query = {k: v for k, v in args.to_dict(flat=False).items() if k not in ("marker",
                                                                            "page_reverse")}
    if marker:
        query["marker"] = [marker]
    if reverse:
        query["page_reverse"] = ["True"]
    return {"rel": rel, "href": f"{request.base_url}?{urlencode(query, doseq=True)}"}


def _links(rows, limit, reverse, args) -> list[dict]:
    if limit is None:
        return []
    links = []
    if not (len(rows) < limit and not reverse):
        links.append(_link("next", rows[-1].id if rows else args.get("marker"), args, False))
    if not (len(rows) < limit and reverse):
        links.append(_link("previous", rows[0].id if rows else args.get("marker"), args, True))
    return links


def respond(collection: Collection, query, render: Callable[[list], list[dict]]):
    """The collection answer: filtered, sorted, paged, rendered and cut to `fields`."""
    for condition in conditions(collection):
        query = query.where(condition)
    rows, links = page(query, collection, sorting(collection))
    fields = views.requested_fields()
    body = {collection.name: [views.only(document, fields) for document in render(rows)]}
    if links:
        body[f"{collection.name}_links"] = links
    return views.respond(body)


def where(query, condition):
    """query.where(condition) unless condition is None (an admin's "everything")."""
    return query if condition is None else query.where(condition)
