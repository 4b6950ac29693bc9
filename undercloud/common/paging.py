"""limit/marker paging and sort_key/sort_dir ordering over peewee queries."""
from urllib.parse import urlencode

from flask import request

from undercloud.common.errors import BadRequest


def parse_limit(text: str) -> int:
    """A `limit` query argument's value, or 400 unless it is a non-negative integer."""
    try:
        limit = int(text)
    except ValueError:
        raise BadRequest(f"Invalid limit {text!r}: it must be a non-negative integer.") from None
    if limit < 0:
        raise BadRequest(f"Invalid limit {limit}: it must be a non-negative integer.")
    return limit


def limit_arg(maximum: int) -> int | None:
    """The `limit` query argument, capped at the configured page size."""
    text = request.args.get("limit")
    return maximum if text is None else min(parse_limit(text), maximum)


def sort_args(allowed: dict, default=("created_at", "desc")) -> list[tuple]:
    """[(field, direction)] from sort_key/sort_dir or sort=key:dir, checked against `allowed`."""
    keys = request.args.getlist("sort_key")
    dirs = request.args.getlist("sort_dir")
    for item in request.args.getlist("sort"):
        for part in item.split(","):
            key, _, direction = part.partition(":")
            keys.append(key)
            dirs.append(direction or "asc")
    if not keys:
        keys, dirs = [default[0]], [default[1]]
    order = []
    for index, key in enumerate(keys):
        if key not in allowed:
            raise BadRequest(f"Invalid sort key {key!r}: choose from {', '.join(sorted(allowed))}.")
        direction = (dirs[index] if index < len(dirs) else dirs[-1] if dirs else "asc").lower()
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction {direction!r}: use 'asc' or 'desc'.")
        order.append((allowed[key], direction))
    return order


def _after(order, marker):
    """The condition 'comes after the marker row' for a multi-key ordering."""
    clauses = []
    for index, (field, direction) in enumerate(order):
        value = getattr(marker, field.name)
        step = field > value if direction == "asc" else field < value
        for earlier, _ in order[:index]:
            step &= earlier == getattr(marker, earlier.name)
        clauses.append(step)
    condition = clauses[0]
    for clause in clauses[1:]:
        condition |= clause
    return condition


def paginate(query, model, order, limit: int | None, marker_id: str | None):
    """One page of `query` after the row `marker_id`, with id as the tie-breaker."""
    if not any(field is model.id for field, _ in order):
        order = [*order, (model.id, order[-1][1] if order else "asc")]
    if marker_id:
        marker = model.get_or_none(model.id == marker_id)
        if marker is None:
            raise BadRequest(f"Marker {marker_id} could not be found.")
        query = query.where(_after(order, marker))
    query = query.order_by(*[f.asc() if d == "asc" else f.desc() for f, d in order])
    if limit is not None:
        query = query.limit(limit)
    return list(query)


def next_link(items, limit: int | None, rel: str = "next") -> dict | None:
    """The link to the following page, when this page was full."""
    if not items or limit is None or len(items) < limit:
        return None
    args = request.args.to_dict(flat=False)
    args["marker"] = [items[-1].id]
    return {"rel": rel, "href": f"{request.base_url}?{urlencode(args, doseq=True)}"}
