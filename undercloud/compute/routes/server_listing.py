"""GET /servers and /servers/detail: Nova's filters, sorting and limit/marker paging.

Filters Nova grants only to admins are ignored for everyone else, as Nova does.
Regex filters (name, ip) run in Python over the SQL-filtered rows, before paging.
"""
import datetime
import re
from urllib.parse import urlencode

import peewee

from flask import g, request

from undercloud.common.errors import BadRequest
from undercloud.compute import policy, views
from undercloud.compute.models import Instance, InstanceTag
from undercloud.compute.routes.common import config, integer_arg

SORT_KEYS = {"access_ip_v4": Instance.access_ip_v4, "access_ip_v6": Instance.access_ip_v6,
             "auto_disk_config": Instance.created_at, "availability_zone":
             Instance.availability_zone, "config_drive": Instance.config_drive,
             "created_at": Instance.created_at, "display_description":
             Instance.display_description, "display_name": Instance.display_name,
             "host": Instance.host, "hostname": Instance.hostname, "image_ref": Instance.image_ref,
             "instance_type_id": Instance.created_at, "kernel_id": Instance.created_at,
             "key_name": Instance.key_name, "launch_index": Instance.launch_index,
             "launched_at": Instance.launched_at, "locked": Instance.locked,
             "locked_by": Instance.locked_by, "node": Instance.node,
             "power_state": Instance.power_state, "progress": Instance.progress,
             "project_id": Instance.project_id, "ramdisk_id": Instance.created_at,
             "root_device_name": Instance.created_at, "task_state": Instance.task_state,
             "terminated_at": Instance.terminated_at, "updated_at": Instance.updated_at,
             "user_id": Instance.user_id, "uuid": Instance.id, "vm_state": Instance.vm_state}


# Query parameters Nova's list-servers schema knows; from 2.75 any other one is a 400.
KNOWN_ARGS = {
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id",
    "ramdisk_id", "hostname", "key_name", "power_state", "vm_state", "task_state", "host",
    "node", "flavor", "reservation_id", "launched_at", "terminated_at", "availability_zone",
    "name", "display_name", "description", "display_description", "locked_by", "uuid",
    "root_device_name", "config_drive", "access_ip_v4", "access_ip_v6", "auto_disk_config",
    "progress", "sort_key", "sort_dir", "all_tenants", "soft_deleted", "deleted", "status",
    "changes-since", "changes-before", "ip", "ip6", "created_at", "block_device_mapping",
    "services", "metadata", "pci_devices", "security_groups", "info_cache",
    "system_metadata", "tags", "tags-any", "not-tags", "not-tags-any", "limit", "marker",
    "locked", "fault", "numa_topology", "trusted_certs", "vm_mode", "accessIPv4", "accessIPv6",
    "instance_name",
}


def parse_time(text: str, name: str) -> datetime.datetime:
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00")
                                                .replace(" ", "+"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {text}. "
                         f"'{text}' is not a 'date-time'") from None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _last_part(text: str) -> str:
    return text.rstrip("/").rsplit("/", 1)[-1]


def _bool_arg(text: str) -> bool:
    return text.lower() in ("true", "1", "yes", "on", "t", "y")


def _sort_order():
    keys = request.args.getlist("sort_key")
    dirs = request.args.getlist("sort_dir")
    if not keys:
        keys = ["created_at"]
    order = []
    for index, key in enumerate(keys):
        if key not in SORT_KEYS:
            raise BadRequest(f"Invalid input for query parameters sort_key. Value: {key}.")
        direction = (dirs[index] if index < len(dirs) else "desc").lower()
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid input for query parameters sort_dir. Value: "
                             f"{direction}. It must be one of: asc, desc")
        order.append((SORT_KEYS[key], direction))
    if not any(field is Instance.id for field, _ in order):
        order.append((Instance.id, order[-1][1]))
    return order


def _tag_filters(query, args):
    if not views.at_least("2.26"):
        return query
    for name in ("tags", "tags-any", "not-tags", "not-tags-any"):
        text = args.get(name)
        if not text:
            continue
        wanted = [t for t in text.split(",") if t]
        if name in ("tags", "not-tags"):
            having = (InstanceTag.select(InstanceTag.instance)
                      .where(InstanceTag.tag.in_(wanted)).group_by(InstanceTag.instance)
                      .having(peewee.fn.COUNT(InstanceTag.tag.distinct())
                              == len(set(wanted))))
        else:
            having = InstanceTag.select(InstanceTag.instance).where(InstanceTag.tag.in_(wanted))
        query = query.where(Instance.id.in_(having) if name.startswith("tags")
                            else Instance.id.not_in(having))
    return query


def servers(detail: bool) -> dict:
    args = request.args
    context = g.context
    if views.at_least("2.75"):
        unknown = sorted(set(args) - KNOWN_ARGS)
        if unknown:
            raise BadRequest(f"Invalid input for query parameters {unknown[0]}. Additional "
                             f"properties are not allowed ('{unknown[0]}' was unexpected)")
    admin = policy.allowed("servers:index:get_all_tenants")
    query = Instance.select()
    all_tenants = "all_tenants" in args and (args["all_tenants"] == "" or
                                             _bool_arg(args["all_tenants"]))
    if all_tenants:
        # As in Nova: asking for every project is admin-only, and only then may a project
        # other than the caller's be named.
        policy.enforce("servers:index:get_all_tenants")
        project = args.get("project_id") or args.get("tenant_id")
        if project:
            query = query.where(Instance.project_id == project)
    else:
        policy.enforce("servers:index", project_id=context.project_id)
        query = query.where(Instance.project_id == context.project_id)
    changes_since = args.get("changes-since")
    changes_before = args.get("changes-before") if views.at_least("2.66") else None
    statuses = [s.upper() for s in args.getlist("status")]
    show_deleted = bool(changes_since or changes_before) or (admin and "DELETED" in statuses)
    if admin and "deleted" in args:
        query = query.where(Instance.deleted == _bool_arg(args["deleted"]))
    elif not show_deleted:
        query = query.where(Instance.deleted == False)  # noqa: E712
    if changes_since:
        query = query.where(Instance.updated_at >= parse_time(changes_since, "changes-since"))
    if changes_before:
        before = parse_time(changes_before, "changes-before")
        if changes_since and before < parse_time(changes_since, "changes-since"):
            raise BadRequest("The value of changes-since must be less than or equal to "
                             "changes-before.")
        query = query.where(Instance.updated_at <= before)
    if statuses:
        vm_states = sorted({vm for s in statuses for vm in views.STATUS_VM_STATES.get(s, [])})
        if not vm_states:
            if views.at_least("2.38"):
                raise BadRequest(f"Invalid status value: {', '.join(statuses)}")
            return {"servers": []}
        condition = Instance.vm_state.in_(vm_states)
        if "DELETED" in statuses:
            condition |= Instance.deleted == True  # noqa: E712
        query = query.where(condition)
    if args.get("image"):
        query = query.where(Instance.image_ref == _last_part(args["image"]))
    if args.get("availability_zone"):
        query = query.where(Instance.availability_zone == args["availability_zone"])
    if args.get("reservation_id"):
        query = query.where(Instance.reservation_id == args["reservation_id"])
    if admin:
        for arg, field in (("host", Instance.host), ("node", Instance.node),
                           ("uuid", Instance.id), ("user_id", Instance.user_id),
                           ("vm_state", Instance.vm_state), ("task_state", Instance.task_state),
                           ("hostname", Instance.hostname), ("key_name", Instance.key_name)):
            if args.get(arg):
                query = query.where(field == args[arg])
    if views.at_least("2.73") and "locked" in args:
        text = args["locked"].lower()
        if text not in ("true", "false", "1", "0", "yes", "no", "t", "f"):
            raise BadRequest(f"Invalid input for query parameters locked. Value: {text}.")
        query = query.where(Instance.locked == _bool_arg(text))
    query = _tag_filters(query, args)
    order = _sort_order()
    rows = list(query.order_by(*[f.asc() if d == "asc" else f.desc() for f, d in order]))
    rows = _python_filters(rows, args, admin)
    limit = integer_arg(args, "limit", minimum=0)
    maximum = config()["compute"]["max_limit"]
    limit = maximum if limit is None else min(limit, maximum)
    marker = args.get("marker")
    if marker:
        ids = [row.id for row in rows]
        if marker not in ids:
            if not Instance.select().where(Instance.id == marker).exists():
                raise BadRequest(f"marker [{marker}] not found")
            rows = []
        else:
            rows = rows[ids.index(marker) + 1:]
    page = rows[:limit]
    document = {"servers": [views.server(row, detail) for row in page]}
    if page and len(page) == limit and len(rows) > limit or (
            "limit" in args and page and len(page) == limit):
        query_args = args.to_dict(flat=False)
        query_args["marker"] = [page[-1].id]
        document["servers_links"] = [{"rel": "next", "href": f"{request.base_url}?"
                                      f"{urlencode(query_args, doseq=True)}"}]
    return document


def _regex(text: str, name: str):
    try:
        return re.compile(text)
    except re.error:
        raise BadRequest(f"Invalid regular expression for {name}: {text!r}") from None


def _python_filters(rows, args, admin: bool):
    if args.get("name"):
        pattern = _regex(args["name"], "name")
        rows = [row for row in rows if pattern.search(row.display_name or "")]
    if args.get("flavor"):
        wanted = _last_part(args["flavor"])
        rows = [row for row in rows if str((row.flavor or {}).get("flavorid")) == wanted]
    for arg, version in (("ip", 4), ("ip6", 6)):
        if args.get(arg):
            pattern = _regex(args[arg], arg)
            rows = [row for row in rows if any(
                pattern.search(address.get("addr", ""))
                for addresses in (row.addresses or {}).values() for address in addresses
                if address.get("version", version) == version)]
    if admin and args.get("description"):
        pattern = _regex(args["description"], "description")
        rows = [row for row in rows if pattern.search(row.display_description or "")]
    return rows
