"""GET /v2/images: which images a project sees, Glance's filters, sorting and marker paging.

Without a visibility filter a project sees public images, its own, and shared images it
accepted (member_status picks another membership status); community images only when it
owns them or asks for visibility=community. Hidden images appear only with os_hidden=true.
"""
import datetime
from urllib.parse import urlencode

import peewee

from undercloud.common import errors
from undercloud.image.models import Image, ImageMember, ImageProperty, ImageTag

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
             "updated_at")
# Sorting by a column that may be NULL compares these instead, as Glance does.
NULL_SORT_VALUES = {"name": "", "container_format": "", "disk_format": "", "size": 0}
NAMED_FILTERS = ("name", "id", "status", "container_format", "disk_format")
EXACT_FILTERS = {"owner": str, "checksum": str, "os_hash_value": str, "os_hash_algo": str,
                 "size": int, "virtual_size": int, "min_ram": int, "min_disk": int}
RANGE_FILTERS = ("size", "virtual_size", "min_ram", "min_disk")
TIME_OPERATORS = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__",
                  "eq": "__eq__", "neq": "__ne__"}
CONTROL_ARGS = ("limit", "marker", "sort", "sort_key", "sort_dir", "member_status",
                "visibility", "tag", "os_hidden", "protected")
VISIBILITIES = ("community", "public", "private", "shared", "all")
MEMBER_STATUSES = ("pending", "accepted", "rejected", "all")


def _bool_arg(args, name, default=None):
    value = args.get(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise errors.BadRequest(f"Invalid value '{value}' for '{name}' filter. Valid values "
                                "are 'true' or 'false'.")
    return value.lower() == "true"


def _split_operator(expression: str) -> tuple[str, str]:
    """Glance's 'op:value' ('in:a,b', 'gte:2024-...'); a bare value or timestamp means eq.

    As in Glance, a value holding ':' needs the eq: prefix ('eq:a:b').
    """
    left, sep, right = expression.partition(":")
    if not sep:
        return "eq", expression
    try:
        datetime.datetime.fromisoformat(expression.replace("Z", "+00:00"))
        return "eq", expression
    except ValueError:
        return left, right


def _parse_time(name: str, text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise errors.BadRequest(f'Bad "{name}" query filter format. Use ISO 8601 DateTime '
                                "notation.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


def _time_condition(column, operator: str, moment: datetime.datetime):
    """Compare to the second when the client gave whole seconds (the API shows seconds)."""
    if moment.microsecond:
        return getattr(column, TIME_OPERATORS[operator])(moment)
    end = moment + datetime.timedelta(seconds=1)
    return {"eq": (column >= moment) & (column < end), "neq": (column < moment) | (column >= end),
            "gt": column >= end, "gte": column >= moment, "lt": column < moment,
            "lte": column < end}[operator]


def _in_values(text: str) -> list[str]:
    """Glance's in: list: comma separated, double quotes keep a comma inside a value."""
    values, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            values.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise errors.BadRequest(f"Invalid filter value {text}. The quote is not closed.")
    values.append(current)
    return values


def _number(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not -2 ** 63 <= value < 2 ** 63:
        raise errors.BadRequest(f"Invalid value '{text}' for '{name}' filter: it must be an "
                                "integer.")
    return value


def conditions(args) -> list:
    """WHERE clauses for the filters in the query string (400 for bad ones)."""
    if "changes-since" in args:
        raise errors.BadRequest('The "changes-since" filter is no longer available on v2.')
    where = [Image.os_hidden == _bool_arg(args, "os_hidden", False)]
    protected = _bool_arg(args, "protected")
    if protected is not None:
        where.append(Image.protected == protected)
    for name in NAMED_FILTERS:
        if name in args:
            operator, value = _split_operator(args[name])
            column = getattr(Image, name)
            if operator == "in":
                where.append(column.in_(_in_values(value)))
            elif operator == "eq":
                where.append(column == value)
            else:
                raise errors.BadRequest(f"Unable to filter by unknown operator '{operator}'.")
    for name in ("created_at", "updated_at"):
        if name in args:
            operator, value = _split_operator(args[name])
            if operator not in TIME_OPERATORS:
                raise errors.BadRequest(f"Unable to filter by unknown operator '{operator}'.")
            where.append(_time_condition(getattr(Image, name), operator,
                                         _parse_time(name, value)))
    for name, kind in EXACT_FILTERS.items():
        if name in args:
            value = _number(name, args[name]) if kind is int else args[name]
            where.append(getattr(Image, name) == value)
    for name in RANGE_FILTERS:
        if f"{name}_min" in args:
            where.append(getattr(Image, name) >= _number(f"{name}_min", args[f"{name}_min"]))
        if f"{name}_max" in args:
            where.append(getattr(Image, name) <= _number(f"{name}_max", args[f"{name}_max"]))
    for tag in args.getlist("tag"):
        where.append(Image.id.in_(ImageTag.select(ImageTag.image)
                                  .where(ImageTag.value == tag.strip())))
    handled = {*CONTROL_ARGS, *NAMED_FILTERS, *EXACT_FILTERS, "created_at", "updated_at",
               *(f"{n}_{end}" for n in RANGE_FILTERS for end in ("min", "max"))}
    for name in args:
        if name not in handled:
            # Any other argument filters on a free-form property, as in Glance.
            where.append(Image.id.in_(ImageProperty.select(ImageProperty.image).where(
                ImageProperty.name == name, ImageProperty.value == args[name])))
    return where


def scope(args, context) -> list:
    """WHERE clauses for the images this caller may list (visibility and membership)."""
    visibility = args.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise errors.BadRequest(f"Invalid visibility value: {visibility}")
    member_status = args.get("member_status", "accepted")
    if member_status not in MEMBER_STATUSES:
        raise errors.BadRequest(f"Invalid status: {member_status}")
    project = context.project_id
    where = []
    if not context.is_admin:
        memberships = ImageMember.select(ImageMember.image).where(ImageMember.member == project)
        if member_status != "all":
            memberships = memberships.where(ImageMember.status == member_status)
        where.append(Image.visibility.in_(["public", "community"])
                     | (Image.owner == project)
                     | ((Image.visibility == "shared") & Image.id.in_(memberships)))
    if visibility is not None:
        if visibility != "all":
            where.append(Image.visibility == visibility)
    elif project is None:
        where.append(Image.visibility != "community")
    else:
        where.append((Image.owner == project) | (Image.visibility != "community"))
    return where


def ordering(args) -> list[tuple[str, str]]:
    """[(sort key, direction)] from sort=key:dir,... or sort_key/sort_dir, then created_at, id."""
    keys, directions = [], []
    if "sort" in args:
        if "sort_key" in args or "sort_dir" in args:
            raise errors.BadRequest("Old and new sorting syntax cannot be combined")
        for part in args["sort"].strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(key.strip())
            directions.append(direction.strip() or "desc")
    else:
        keys = [key.strip() for key in args.getlist("sort_key")]
        directions = [direction.strip() for direction in args.getlist("sort_dir")]
        if len(directions) > 1 and len(directions) != len(keys):
            raise errors.BadRequest("Number of sort dirs does not match the number of sort keys")
    for key in keys:
        if key not in SORT_KEYS:
            raise errors.BadRequest(f"Invalid sort key: {key}. It must be one of the "
                                    f"following: {', '.join(SORT_KEYS)}.")
    for direction in directions:
        if direction not in ("asc", "desc"):
            raise errors.BadRequest(f"Invalid sort direction: {direction}")
    if not keys:
        keys = ["created_at"]
    default = directions[0] if len(directions) == 1 else "desc"
    if len(directions) <= 1:
        directions = [default] * len(keys)
    order = list(zip(keys, directions))
    for key in ("created_at", "id"):
        if key not in keys:
            order.append((key, default))
    return order


def _column(key: str):
    column = getattr(Image, key)
    if key in NULL_SORT_VALUES:
        return peewee.fn.COALESCE(column, NULL_SORT_VALUES[key])
    return column


def _after(order, marker: Image):
    """'Comes after the marker image' for a multi-key ordering."""
    clauses = []
    for index, (key, direction) in enumerate(order):
        value = getattr(marker, key)
        if value is None:
            value = NULL_SORT_VALUES.get(key)
        column = _column(key)
        step = column > value if direction == "asc" else column < value
        for earlier, _ in order[:index]:
            earlier_value = getattr(marker, earlier)
            if earlier_value is None:
                earlier_value = NULL_SORT_VALUES.get(earlier)
            step &= _column(earlier) == earlier_value
        clauses.append(step)
    condition = clauses[0]
    for clause in clauses[1:]:
        condition |= clause
    return condition


def limit_arg(args, default: int, maximum: int) -> int:
    text = args.get("limit")
    if text is None:
        return min(default, maximum)
    try:
        limit = int(text)
    except ValueError:
        raise errors.BadRequest("limit param must be an integer") from None
    if limit < 0:
        raise errors.BadRequest("limit param must be positive")
    return min(limit, maximum)


def page(args, context, default_limit: int, max_limit: int, find_marker) -> tuple[list, bool]:
    """(images of this page, whether a next page may follow)."""
    order = ordering(args)
    limit = limit_arg(args, default_limit, max_limit)
    query = Image.select().where(*conditions(args), *scope(args, context))
    marker_id = args.get("marker")
    if marker_id is not None:
        marker = find_marker(marker_id)
        if marker is None:
            raise errors.BadRequest(f"marker {marker_id} could not be found.")
        query = query.where(_after(order, marker))
    query = query.order_by(*[_column(k).asc() if d == "asc" else _column(k).desc()
                             for k, d in order]).limit(limit)
    rows = list(query)
    return rows, bool(rows) and len(rows) == limit


def links(args, rows, more: bool) -> dict:
    """Glance's first/next links: the request's own arguments, with the marker moved on."""
    params = [(k, v) for k, v in args.items(multi=True) if k != "marker"]
    query = urlencode(params)
    body = {"first": "/v2/images" + (f"?{query}" if query else ""),
            "schema": "/v2/schemas/images"}
    if more:
        body["next"] = "/v2/images?" + urlencode(params + [("marker", rows[-1].id)])
    return body
