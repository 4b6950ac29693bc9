"""/v2.0/security-group-rules: create, list, show, delete (rules are not updated, as in Neutron).

The checks of a rule's values live in secgroups.py; here the group and the remote group are
looked up (404 when missing or hidden) and a rule already in the group is refused (409).
"""
from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import Conflict, NotFound
from undercloud.network import attributes, faults, listing, notify, policy, quotas, secgroups, \
    views
from undercloud.network.attributes import Attribute, string
from undercloud.network.models import DefaultSecurityGroup, SecurityGroup, SecurityGroupRule
from undercloud.network.routes import config

blueprint = Blueprint("security_group_rules", __name__)

# Values are checked together by secgroups.rule_from_request.
SECURITY_GROUP_RULE = {
    "security_group_id": Attribute(put=False, required=True),
    "direction": Attribute(put=False, required=True),
    "ethertype": Attribute(put=False),
    "protocol": Attribute(put=False),
    "port_range_min": Attribute(put=False),
    "port_range_max": Attribute(put=False),
    "remote_ip_prefix": Attribute(put=False),
    "remote_group_id": Attribute(put=False),
    "description": Attribute(put=False, check=string()),
}


def render_rules(rules: list, default_group_ids: set | None = None) -> list[dict]:
    """Rule documents; default_group_ids (the default groups among the rules' groups) is
    looked up when not given."""
    if default_group_ids is None:
        group_ids = {rule.security_group_id for rule in rules}
        default_group_ids = {row.security_group_id for row in DefaultSecurityGroup.select()
                             .where(DefaultSecurityGroup.security_group.in_(group_ids))} \
            if group_ids else set()
    return [{"id": rule.id, "tenant_id": rule.project_id, "project_id": rule.project_id,
             "security_group_id": rule.security_group_id, "direction": rule.direction,
             "ethertype": rule.ethertype, "protocol": rule.protocol,
             "port_range_min": rule.port_range_min, "port_range_max": rule.port_range_max,
             "remote_ip_prefix": rule.remote_ip_prefix, "remote_group_id": rule.remote_group_id,
             "remote_address_group_id": None, "normalized_cidr": rule.remote_ip_prefix,
             "description": rule.description, "created_at": views.timestamp(rule.created_at),
             "updated_at": views.timestamp(rule.updated_at),
             "revision_number": rule.revision_number,
             "belongs_to_default_sg": rule.security_group_id in default_group_ids}
            for rule in rules]


SECURITY_GROUP_RULES = listing.Collection(SecurityGroupRule, "security_group_rules", filters={
    "id": listing.exact(SecurityGroupRule.id),
    "tenant_id": listing.exact(SecurityGroupRule.project_id),
    "project_id": listing.exact(SecurityGroupRule.project_id),
    "description": listing.exact(SecurityGroupRule.description),
    "revision_number": listing.exact(SecurityGroupRule.revision_number, listing.to_integer),
    "security_group_id": listing.exact(SecurityGroupRule.security_group),
    "direction": listing.exact(SecurityGroupRule.direction),
    "ethertype": listing.exact(SecurityGroupRule.ethertype),
    "protocol": listing.nullable(SecurityGroupRule.protocol),
    "port_range_min": listing.nullable(SecurityGroupRule.port_range_min, listing.to_integer),
    "port_range_max": listing.nullable(SecurityGroupRule.port_range_max, listing.to_integer),
    "remote_ip_prefix": listing.nullable(SecurityGroupRule.remote_ip_prefix),
    "remote_group_id": listing.nullable(SecurityGroupRule.remote_group_id),
}, sort_keys={
    "id": SecurityGroupRule.id, "project_id": SecurityGroupRule.project_id,
    "tenant_id": SecurityGroupRule.project_id, "direction": SecurityGroupRule.direction,
    "ethertype": SecurityGroupRule.ethertype, "protocol": SecurityGroupRule.protocol,
    "port_range_min": SecurityGroupRule.port_range_min,
    "port_range_max": SecurityGroupRule.port_range_max,
    "security_group_id": SecurityGroupRule.security_group,
    "created_at": SecurityGroupRule.created_at, "updated_at": SecurityGroupRule.updated_at,
}, tagged=False)


def _visible_rules():
    """Rules of the caller's project or of its groups (None: an admin sees all)."""
    context = g.context
    if context.is_admin:
        return None
    own_groups = SecurityGroup.select(SecurityGroup.id).where(
        SecurityGroup.project_id == context.project_id)
    return (SecurityGroupRule.project_id == context.project_id) \
        | SecurityGroupRule.security_group.in_(own_groups)


def _rule_not_found(rule_id: str) -> NotFound:
    return NotFound(f"Security group rule {rule_id} does not exist",
                    type="SecurityGroupRuleNotFound")


def find(rule_id: str) -> SecurityGroupRule:
    condition = SecurityGroupRule.id == rule_id
    visible = _visible_rules()
    rule = SecurityGroupRule.get_or_none(condition if visible is None else condition & visible)
    if rule is None:
        raise _rule_not_found(rule_id)
    return rule


def find_group(group_id) -> SecurityGroup:
    """The group, or 404 SecurityGroupNotFound when it is missing or another project's."""
    group = SecurityGroup.get_or_none(SecurityGroup.id == str(group_id))
    context = g.context
    if group is None or not (context.is_admin or group.project_id == context.project_id):
        raise faults.security_group_not_found(group_id)
    return group


def _create(document: dict) -> SecurityGroupRule:
    values = attributes.parse("security_group_rule", SECURITY_GROUP_RULE, document,
                              creating=True)
    group = find_group(values["security_group_id"])
    asked = values.get("project_id") or values.get("tenant_id")
    project_id = policy.project_for_create(values) if asked else group.project_id
    policy.enforce("create_security_group_rule", {"project_id": group.project_id,
                                                  "network_project_id": group.project_id})
    rule = secgroups.rule_from_request(values)
    if rule["remote_group_id"] is not None:
        rule["remote_group_id"] = find_group(rule["remote_group_id"]).id
    key = secgroups.rule_key(rule)
    with db.transaction():
        for existing in SecurityGroupRule.select().where(
                SecurityGroupRule.security_group == group.id):
            if secgroups.rule_key(existing) == key:
                raise Conflict(f"Security group rule already exists. Rule id is "
                               f"{existing.id}.", type="SecurityGroupRuleExists")
        quotas.check(config(), project_id, "security_group_rule")
        return SecurityGroupRule.create(project_id=project_id, security_group=group.id, **rule)


@blueprint.post("/v2.0/security-group-rules")
def create_security_group_rules():
    document = attributes.body("security_group_rule", "security_group_rules")
    with db.transaction():
        created = [_create(item) for item in
                   (document if isinstance(document, list) else [document])]
    notify.changed()
    if isinstance(document, list):
        return views.respond({"security_group_rules": render_rules(created)}, 201)
    return views.show("security_group_rule", render_rules(created)[0], 201)


@blueprint.get("/v2.0/security-group-rules")
def list_security_group_rules():
    query = listing.where(SecurityGroupRule.select(), _visible_rules())
    return listing.respond(SECURITY_GROUP_RULES, query, render_rules)


@blueprint.get("/v2.0/security-group-rules/<rule_id>")
def show_security_group_rule(rule_id):
    return views.show("security_group_rule", render_rules([find(rule_id)])[0])


@blueprint.delete("/v2.0/security-group-rules/<rule_id>")
def delete_security_group_rule(rule_id):
    rule = find(rule_id)
    policy.enforce("delete_security_group_rule", policy.target(rule))
    with db.transaction():
        SecurityGroupRule.delete().where(SecurityGroupRule.id == rule.id).execute()
    notify.changed()
    return views.no_content()
