"""/v2.0/quotas: Neutron's quota API (limits per project, defaults, and usage details)."""
from flask import Blueprint

from undercloud.common import validation
from undercloud.common.errors import BadRequest, Forbidden
from undercloud.network import policy, quotas, views
from undercloud.network.routes import config

blueprint = Blueprint("quotas", __name__)


def _admin_required():
    if not policy.is_admin():
        raise Forbidden("User does not have admin privileges: Only admin can view or "
                        "configure quota.", type="AdminRequired")


def _readable(project_id: str):
    if not policy.allowed("get_quota", {"project_id": project_id}):
        raise Forbidden("Non-admin is not authorized to access quotas for another project",
                        type="PolicyNotAuthorized")


def _with_project(values: dict, project_id: str) -> dict:
    return {**values, "project_id": project_id, "tenant_id": project_id}


@blueprint.get("/v2.0/quotas")
def list_quotas():
    _admin_required()
    return views.respond({"quotas": [
        _with_project(quotas.limits(config(), project_id), project_id)
        for project_id in quotas.projects_with_overrides()]})


@blueprint.get("/v2.0/quotas/tenant")
@blueprint.get("/v2.0/quotas/project")
def caller_project():
    project_id = policy.context().project_id
    return views.respond({"tenant": {"tenant_id": project_id},
                          "project": {"project_id": project_id}})


@blueprint.get("/v2.0/quotas/<project_id>")
def show_quota(project_id):
    _readable(project_id)
    return views.respond({"quota": quotas.limits(config(), project_id)})


@blueprint.get("/v2.0/quotas/<project_id>/default")
def show_default_quota(project_id):
    _readable(project_id)
    return views.respond({"quota": _with_project(quotas.defaults(config()), project_id)})


@blueprint.get("/v2.0/quotas/<project_id>/details")
def show_quota_details(project_id):
    _readable(project_id)
    limits, used = quotas.limits(config(), project_id), quotas.usage(project_id)
    return views.respond({"quota": {name: {"limit": limit, "used": used[name], "reserved": 0}
                                    for name, limit in limits.items()}})


def _values(document) -> dict[str, int]:
    if not isinstance(document, dict) or not isinstance(document.get("quota"), dict):
        raise BadRequest("Unable to find 'quota' in request body")
    values = {}
    unknown = sorted(set(document["quota"]) - set(quotas.RESOURCES) - {"force",
                                                                        "check_limit"})
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for name, value in document["quota"].items():
        if name in ("force", "check_limit"):
            continue
        try:
            limit = int(value)
        except (TypeError, ValueError):
            limit = None
        if limit is None or isinstance(value, bool) or limit < -1:
            raise BadRequest(f"Invalid input for {name}. Reason: '{value}' should be an "
                             "integer of -1 (unlimited) or more.")
        values[name] = limit
    return values


@blueprint.put("/v2.0/quotas/<project_id>")
def update_quota(project_id):
    if not policy.allowed("update_quota", {"project_id": project_id}):
        _admin_required()
    quotas.update(project_id, _values(validation.json_body()))
    return views.respond({"quota": quotas.limits(config(), project_id)})


@blueprint.delete("/v2.0/quotas/<project_id>")
def delete_quota(project_id):
    if not policy.allowed("delete_quota", {"project_id": project_id}):
        _admin_required()
    quotas.reset(project_id)
    return views.no_content()
