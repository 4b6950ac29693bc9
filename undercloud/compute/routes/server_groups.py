"""os-server-groups: affinity and anti-affinity groups the scheduler honours."""
from flask import Blueprint, g, request

from undercloud import db
from undercloud.common.errors import BadRequest, NotFound
from undercloud.common.validation import validate
from undercloud.compute import policy, quotas, schemas, views
from undercloud.compute.models import Instance, ServerGroup, ServerGroupMember
from undercloud.compute.routes.common import config, integer_arg, no_content, respond

blueprint = Blueprint("compute_server_groups", __name__)


def _view(group) -> dict:
    members = [m.instance_id for m in ServerGroupMember.select().join(
        Instance, on=(ServerGroupMember.instance_id == Instance.id)).where(
        ServerGroupMember.group == group.id, Instance.deleted == False)]  # noqa: E712
    shown = {"id": group.id, "name": group.name, "members": members}
    if views.at_least("2.64"):
        shown.update(policy=group.policy, rules=group.rules or {})
    else:
        shown.update(policies=[group.policy], metadata={})
    if views.at_least("2.13"):
        shown.update(project_id=group.project_id, user_id=group.user_id)
    return shown


def _find(group_id):
    group = ServerGroup.get_or_none(ServerGroup.id == group_id)
    if group is None or not (g.context.is_admin or group.project_id == g.context.project_id):
        raise NotFound(f"Instance group {group_id} could not be found.")
    return group


@blueprint.get("/v2.1/os-server-groups")
def list_groups():
    policy.enforce("server-groups:index", project_id=g.context.project_id)
    query = ServerGroup.select().order_by(ServerGroup.created_at, ServerGroup.id)
    all_projects = request.args.get("all_projects", "").lower() in ("true", "1", "yes", "")
    if not ("all_projects" in request.args and all_projects and
            policy.allowed("server-groups:index:all_projects")):
        query = query.where(ServerGroup.project_id == g.context.project_id)
    if request.args.get("project_id") and g.context.is_admin:
        query = query.where(ServerGroup.project_id == request.args["project_id"])
    offset = integer_arg(request.args, "offset") or 0
    limit = integer_arg(request.args, "limit")
    rows = list(query)[offset:]
    if limit is not None:
        rows = rows[:limit]
    return respond({"server_groups": [_view(row) for row in rows]})


@blueprint.get("/v2.1/os-server-groups/<group_id>")
def show_group(group_id):
    group = _find(group_id)
    policy.enforce("server-groups:show", project_id=group.project_id)
    return respond({"server_group": _view(group)})


@blueprint.post("/v2.1/os-server-groups")
@validate(schemas.SERVER_GROUP_CREATE)
def create_group():
    policy.enforce("server-groups:create", project_id=g.context.project_id)
    body = g.body["server_group"]
    if views.at_least("2.64"):
        if "policies" in body or "policy" not in body:
            raise BadRequest("Invalid input for field/attribute server_group: from 2.64 give "
                             "'policy' (one of affinity, anti-affinity, soft-affinity, "
                             "soft-anti-affinity) and optional 'rules', not 'policies'.")
        chosen, rules = body["policy"], body.get("rules") or {}
        if rules and chosen != "anti-affinity":
            raise BadRequest("Only anti-affinity policy supports rules.")
        rules = {k: int(v) for k, v in rules.items()}
    else:
        if "policy" in body or "rules" in body or "policies" not in body:
            raise BadRequest("Invalid input for field/attribute server_group: give "
                             "'policies' (a list of one policy) before microversion 2.64.")
        chosen, rules = body["policies"][0], {}
        if chosen.startswith("soft-") and not views.at_least("2.15"):
            raise BadRequest(f"Invalid input for field/attribute policies: {chosen} needs "
                             "microversion 2.15.")
    with db.transaction():
        quotas.lock_project(g.context.project_id)
        used = ServerGroup.select().where(ServerGroup.project_id == g.context.project_id).count()
        quotas.check_count(config(), g.context.project_id, "server_groups", used)
        group = ServerGroup.create(name=body["name"], project_id=g.context.project_id,
                                   user_id=g.context.user_id, policy=chosen, rules=rules)
    return respond({"server_group": _view(group)})


@blueprint.delete("/v2.1/os-server-groups/<group_id>")
def delete_group(group_id):
    group = _find(group_id)
    policy.enforce("server-groups:delete", project_id=group.project_id)
    with db.transaction():
        ServerGroupMember.delete().where(ServerGroupMember.group == group.id).execute()
        group.delete_instance()
    return no_content()
