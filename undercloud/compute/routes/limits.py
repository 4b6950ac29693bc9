"""/limits and /os-quota-sets: a project's absolute limits, usage and admin overrides."""
from flask import Blueprint, g, request

from undercloud import db
from undercloud.common.errors import BadRequest
from undercloud.common.validation import check, json_body, validate
from undercloud.compute import policy, quotas, schemas, views
from undercloud.compute.models import QuotaLimit
from undercloud.compute.routes.common import config, respond

blueprint = Blueprint("compute_limits", __name__)

# Quota names Nova stops showing at 2.36 (network proxies) and 2.57 (file injection).
_NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
_INJECTION = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def _visible(values: dict) -> dict:
    values = dict(values)
    if not views.at_least("2.36"):
        values.update(quotas.NETWORK_RESOURCES)
    if views.at_least("2.57"):
        for name in _INJECTION:
            values.pop(name, None)
    return values


@blueprint.get("/v2.1/limits")
def show_limits():
    policy.enforce("limits")
    project_id = g.context.project_id
    if request.args.get("tenant_id") and request.args["tenant_id"] != project_id:
        policy.enforce("limits:other_project")
        project_id = request.args["tenant_id"]
    limit = quotas.limits(config(), project_id)
    used = quotas.usage(project_id)
    absolute = {
        "maxServerMeta": limit["metadata_items"], "maxImageMeta": limit["metadata_items"],
        "maxTotalKeypairs": limit["key_pairs"], "maxServerGroups": limit["server_groups"],
        "maxServerGroupMembers": limit["server_group_members"],
        "maxTotalCores": limit["cores"], "maxTotalInstances": limit["instances"],
        "maxTotalRAMSize": limit["ram"], "totalCoresUsed": used["cores"],
        "totalRAMUsed": used["ram"], "totalInstancesUsed": used["instances"],
        "totalServerGroupsUsed": used["server_groups"],
    }
    if not views.at_least("2.57"):
        absolute.update(maxPersonality=limit["injected_files"],
                        maxPersonalitySize=limit["injected_file_content_bytes"])
    if not views.at_least("2.36"):
        absolute.update(maxSecurityGroupRules=20, maxSecurityGroups=10,
                        maxTotalFloatingIps=10, totalFloatingIpsUsed=0,
                        totalSecurityGroupsUsed=0)
    return respond({"limits": {"rate": [], "absolute": absolute}})


def _quota_set(project_id: str, values: dict) -> dict:
    return {"quota_set": {"id": project_id, **_visible(values)}}


@blueprint.get("/v2.1/os-quota-sets/<project_id>")
def show_quotas(project_id):
    policy.enforce("quota-sets:show", project_id=project_id)
    return respond(_quota_set(project_id, quotas.limits(config(), project_id,
                                                        request.args.get("user_id"))))


@blueprint.get("/v2.1/os-quota-sets/<project_id>/detail")
def show_quota_details(project_id):
    policy.enforce("quota-sets:show", project_id=project_id)
    user_id = request.args.get("user_id")
    limit = _visible(quotas.limits(config(), project_id, user_id))
    used = quotas.usage(project_id, user_id)
    detail = {name: {"limit": value, "in_use": used.get(name, 0), "reserved": 0}
              for name, value in limit.items()}
    return respond({"quota_set": {"id": project_id, **detail}})


@blueprint.get("/v2.1/os-quota-sets/<project_id>/defaults")
def show_default_quotas(project_id):
    policy.enforce("quota-sets:defaults")
    return respond(_quota_set(project_id, quotas.defaults(config())))


@blueprint.put("/v2.1/os-quota-sets/<project_id>")
@validate(schemas.QUOTA_UPDATE)
def update_quotas(project_id):
    policy.enforce("quota-sets:update", project_id=project_id)
    user_id = request.args.get("user_id") or None
    body = {k: v for k, v in g.body["quota_set"].items() if k != "force"}
    force = schemas.truthy(g.body["quota_set"].get("force", False))
    with db.transaction():
        used = quotas.usage(project_id, user_id)
        for resource, value in body.items():
            if not force and resource in quotas.RESOURCES and 0 <= int(value) < used.get(
                    resource, 0):
                raise BadRequest(f"Quota limit {value} for {resource} must be greater than or "
                                 f"equal to already used and reserved {used[resource]}.")
        for resource, value in body.items():
            if resource not in quotas.RESOURCES:
                continue  # network quotas are the network service's
            row = QuotaLimit.get_or_none(QuotaLimit.project_id == project_id,
                                         QuotaLimit.user_id == user_id if user_id
                                         else QuotaLimit.user_id.is_null(),
                                         QuotaLimit.resource == resource)
            if row is None:
                QuotaLimit.create(project_id=project_id, user_id=user_id, resource=resource,
                                  hard_limit=int(value))
            else:
                row.hard_limit = int(value)
                row.save()
    values = quotas.limits(config(), project_id, user_id)
    shown = _visible(values)
    return respond({"quota_set": shown})


def _class_set(values: dict) -> dict:
    values = dict(values)
    if views.at_least("2.50"):  # 2.50 adds the server group limits, drops network ones
        for name in quotas.NETWORK_RESOURCES:
            values.pop(name, None)
    else:
        values.pop("server_groups", None)
        values.pop("server_group_members", None)
    if views.at_least("2.57"):
        for name in _INJECTION:
            values.pop(name, None)
    return values


@blueprint.get("/v2.1/os-quota-class-sets/<name>")
def show_quota_class(name):
    policy.enforce("quota-class-sets:show")
    # Only the "default" class exists in Stackbox; any other name shows it, as Nova does.
    values = quotas.class_values(config())
    return respond({"quota_class_set": {"id": name, **_class_set(values)}})


@blueprint.put("/v2.1/os-quota-class-sets/<name>")
def update_quota_class(name):
    policy.enforce("quota-class-sets:update")
    body = json_body()
    check(body, {"type": "object", "properties": {"quota_class_set": {
        "type": "object", "properties": {
            resource: {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "minimum": -1}
            for resource in schemas.QUOTA_RESOURCES}, "additionalProperties": False}},
        "required": ["quota_class_set"], "additionalProperties": False})
    with db.transaction():
        for resource, value in body["quota_class_set"].items():
            if resource not in quotas.RESOURCES and resource not in quotas.NETWORK_RESOURCES:
                continue
            row = QuotaLimit.get_or_none(QuotaLimit.project_id == quotas.class_project(name),
                                         QuotaLimit.user_id.is_null(),
                                         QuotaLimit.resource == resource)
            if row is None:
                QuotaLimit.create(project_id=quotas.class_project(name), user_id=None,
                                  resource=resource, hard_limit=int(value))
            else:
                row.hard_limit = int(value)
                row.save()
    return respond({"quota_class_set": _class_set(quotas.class_values(config()))})


@blueprint.delete("/v2.1/os-quota-sets/<project_id>")
def delete_quotas(project_id):
    policy.enforce("quota-sets:delete", project_id=project_id)
    query = QuotaLimit.delete().where(QuotaLimit.project_id == project_id)
    if request.args.get("user_id"):
        query = query.where(QuotaLimit.user_id == request.args["user_id"])
    query.execute()
    return respond(None, 202)
