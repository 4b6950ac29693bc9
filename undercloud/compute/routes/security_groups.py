"""os-security-groups (before 2.36), a server's groups, and the addSecurityGroup and
removeSecurityGroup actions: Nova's proxy of the network service's security groups.

Every call goes to the network service with the caller's token (compute/neutron.py), so
which groups the caller sees and may change is the network service's decision. Nova's
answers are kept: a group that is in use (or a project's default) cannot be deleted (400),
and a group shows only its ingress rules.
"""
import uuid

from flask import Blueprint, g, request

from undercloud.common.errors import (BadRequest, Conflict, Forbidden, Internal, NotFound,
                                      ServiceUnavailable)
from undercloud.common.validation import json_body
from undercloud.compute import neutron, policy, views
from undercloud.compute.routes.common import config, integer_arg, no_content, respond
from undercloud.client.http import CloudError

blueprint = Blueprint("compute_security_groups", __name__)
PROXY = "/v2.1/os-security-groups"


@blueprint.before_request
def proxy_removed_in_2_36():
    # Only the proxy went away in 2.36; a server's groups and the actions stay.
    if request.path.startswith(PROXY) and views.at_least("2.36"):
        raise NotFound("The resource could not be found.")


def _refusal(exc: CloudError, not_found: str | None = None):
    """The network service's refusal in Nova's status codes."""
    if exc.status == 404:
        return NotFound(not_found or exc.detail)
    if exc.status in (400, 409):   # Nova's Invalid: bad input, a group in use
        return BadRequest(exc.detail)
    if exc.status == 403:
        return Forbidden(exc.detail)
    if exc.status is None:
        return ServiceUnavailable(exc.detail)
    return Internal(f"The network service failed: {exc.detail}")


def _network(function, *args, not_found: str | None = None, **filters):
    """FUNCTION's answer from the network service, as the caller."""
    try:
        return function(config(), g.context.token, *args, **filters)
    except CloudError as exc:
        raise _refusal(exc, not_found) from None


def _rule(rule: dict, group_named) -> dict | None:
    """A rule as Nova shows it; None when its remote group is gone (Nova leaves it out)."""
    protocol, low, high = rule["protocol"], rule["port_range_min"], rule["port_range_max"]
    if protocol and low is None and high is None:
        low, high = (1, 65535) if protocol.upper() in ("TCP", "UDP") else (-1, -1)
    shown = {"id": rule["id"], "parent_group_id": rule["security_group_id"],
             "ip_protocol": protocol, "from_port": low, "to_port": high, "group": {},
             "ip_range": {}}
    if rule["remote_group_id"]:
        remote = group_named(rule["remote_group_id"])
        if remote is None:
            return None
        shown["group"] = {"name": remote["name"], "tenant_id": remote["tenant_id"]}
    else:
        shown["ip_range"] = {"cidr": rule["remote_ip_prefix"] or "0.0.0.0/0"}
    return shown


def _views(groups: list[dict]) -> list[dict]:
    """Nova's view of groups (sorted by project and name), their ingress rules only."""
    known = {group["id"]: group for group in groups}

    def group_named(group_id):
        if group_id not in known:
            try:
                known[group_id] = neutron.security_group(config(), g.context.token, group_id)
            except CloudError:
                known[group_id] = None
        return known[group_id]
    shown = []
    for group in groups:
        rules = [_rule(rule, group_named) for rule in group["security_group_rules"]
                 if rule["direction"] == "ingress"]
        shown.append({"id": group["id"], "name": group["name"],
                      "description": group["description"], "tenant_id": group["tenant_id"],
                      "rules": [rule for rule in rules if rule]})
    return sorted(shown, key=lambda group: (group["tenant_id"], group["name"]))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _find(group_id: str) -> dict:
    if not _is_uuid(group_id):
        raise BadRequest("Security group id should be uuid")
    return _network(neutron.security_group, group_id,
                    not_found=f"Security group {group_id} not found.")


def _name_and_description(body) -> tuple[str, str]:
    """Nova's checks: both given, strings, 1 to 255 characters once stripped (kept unstripped)."""
    if not body:
        raise BadRequest("The request body can't be empty")
    group = body.get("security_group") if isinstance(body, dict) else None
    if group is None:
        raise BadRequest("Missing parameter security_group")
    values = []
    for name in ("name", "description"):
        value = group.get(name) if isinstance(group, dict) else None
        if not isinstance(value, str):
            raise BadRequest(f"Security group {name} is not a string or unicode")
        if not value.strip():
            raise BadRequest(f"{name} has a minimum character requirement of 1.")
        if len(value.strip()) > 255:
            raise BadRequest(f"{name} has more than 255 characters.")
        values.append(value)
    return values[0], values[1]


@blueprint.get(PROXY)
def list_groups():
    policy.enforce("os-security-groups:get")
    filters = {}
    everyone = request.args.get("all_tenants", "false").lower() not in ("false", "0", "no")
    if not (everyone and g.context.is_admin):
        filters["tenant_id"] = g.context.project_id
    groups = _network(neutron.security_groups, **filters)
    offset = integer_arg(request.args, "offset") or 0
    limit = integer_arg(request.args, "limit")
    groups = groups[offset:offset + limit if limit is not None else None]
    return respond({"security_groups": _views(groups)})


@blueprint.post(PROXY)
def create_group():
    policy.enforce("os-security-groups:create")
    name, description = _name_and_description(json_body())
    try:
        group = neutron.create_security_group(config(), g.context.token, name, description)
    except CloudError as exc:
        if exc.status == 409:   # over quota (or a second "default"): Nova's limit exceeded
            raise Forbidden(exc.detail) from None
        raise _refusal(exc) from None
    return respond({"security_group": _views([group])[0]})


@blueprint.get(f"{PROXY}/<group_id>")
def show_group(group_id):
    policy.enforce("os-security-groups:show")
    return respond({"security_group": _views([_find(group_id)])[0]})


@blueprint.put(f"{PROXY}/<group_id>")
def update_group(group_id):
    policy.enforce("os-security-groups:update")
    group = _find(group_id)
    name, description = _name_and_description(json_body())
    group = _network(neutron.update_security_group, group["id"], name, description)
    return respond({"security_group": _views([group])[0]})


@blueprint.delete(PROXY)
def delete_without_id():
    raise NotFound("The resource could not be found.")   # Nova's, not 405


@blueprint.delete(f"{PROXY}/<group_id>")
def delete_group(group_id):
    policy.enforce("os-security-groups:delete")
    group = _find(group_id)
    _network(neutron.delete_security_group, group["id"])
    return no_content(202)


@blueprint.get("/v2.1/servers/<server_id>/os-security-groups")
def server_groups(server_id):
    server = policy.find_server(server_id)
    policy.enforce("os-security-groups:list", project_id=server.project_id)
    ports = _network(neutron.server_ports, server.id)
    ids = sorted({group_id for port in ports for group_id in port.get("security_groups") or []})
    groups = _network(neutron.security_groups, id=ids) if ids else []
    return respond({"security_groups": _views(groups)})


def _action_group(body) -> str:
    if not isinstance(body, dict):
        raise BadRequest("Missing parameter dict")
    if "name" not in body:
        raise BadRequest("Security group not specified")
    if not isinstance(body["name"], str) or not body["name"].strip():
        raise BadRequest("Security group name cannot be empty")
    name = body["name"]
    project_id = g.context.project_id
    matches = _network(neutron.security_groups, id=name) if _is_uuid(name) else []
    matches = matches or _network(neutron.security_groups, name=name, tenant_id=project_id)
    if not matches:
        raise NotFound(f"Security group {name} is not found for project {project_id}")
    if len(matches) > 1:
        raise Conflict(f"Multiple security_group matches found for name '{name}', use an ID "
                       f"to be more specific.")
    return matches[0]["id"]


def _securable(port: dict) -> bool:
    # Nova's requirement: port security on, and an address to filter.
    return bool(port.get("fixed_ips")) and port.get("port_security_enabled", True)


def server_action(server, action: str, body):
    """addSecurityGroup / removeSecurityGroup: every port of the server gains or loses it."""
    adding = action == "addSecurityGroup"
    policy.enforce(f"os-security-groups:{'add' if adding else 'remove'}",
                   project_id=server.project_id)
    group_id = _action_group(body)
    ports = _network(neutron.server_ports, server.id)
    if not ports:
        raise NotFound(f"instance_id {server.id} could not be found as device id on any ports")
    if adding and not all(_securable(port) for port in ports):
        raise BadRequest("Network requires port_security_enabled and subnet associated in "
                         "order to apply security groups.")
    changed = False
    for port in ports:
        groups = list(port.get("security_groups") or [])
        if adding == (group_id in groups):
            continue
        groups = groups + [group_id] if adding else [i for i in groups if i != group_id]
        _network(neutron.set_port_security_groups, port["id"], groups)
        changed = True
    if not adding and not changed:
        raise NotFound(f"Security group {body['name']} not associated with the instance "
                       f"{server.id}")
    return no_content(202)
