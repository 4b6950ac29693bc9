"""/v2.0/subnetpools: create, list, show, update, delete."""
import ipaddress

from flask import Blueprint

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict
from undercloud.network import attributes, listing, policy, quotas, subnetpools, views
from undercloud.network.attributes import Attribute, boolean, integer, list_of, string
from undercloud.network.models import Subnet, SubnetPool, Tag
from undercloud.network.routes import config

blueprint = Blueprint("subnetpools", __name__)

SUBNETPOOL = {
    "name": Attribute(check=string()),
    "description": Attribute(check=string()),
    "prefixes": Attribute(required=True, check=list_of(string(64))),
    "default_prefixlen": Attribute(check=integer(0, 128)),
    "min_prefixlen": Attribute(check=integer(0, 128)),
    "max_prefixlen": Attribute(check=integer(0, 128)),
    "default_quota": Attribute(check=integer(0, nullable=True)),
    "shared": Attribute(put=False, check=boolean),
    "is_default": Attribute(check=boolean),
    "address_scope_id": Attribute(check=attributes.one_of(None, nullable=True)),
    "tags": Attribute(put=False, check=list_of(string(), unique=True)),
}


def render(rows: list) -> list[dict]:
    tags = views.tags_by_id("subnetpools", [row.id for row in rows])
    return [{**views.standard(pool, tags[pool.id]), "ip_version": pool.ip_version,
             "prefixes": list(pool.prefixes), "default_prefixlen": pool.default_prefixlen,
             "min_prefixlen": pool.min_prefixlen, "max_prefixlen": pool.max_prefixlen,
             "default_quota": pool.default_quota, "shared": pool.shared,
             "is_default": pool.is_default, "address_scope_id": pool.address_scope_id}
            for pool in rows]


SUBNETPOOLS = listing.Collection(SubnetPool, "subnetpools", filters={
    **listing.standard_filters(SubnetPool),
    "ip_version": listing.exact(SubnetPool.ip_version, listing.to_integer),
    "default_prefixlen": listing.exact(SubnetPool.default_prefixlen, listing.to_integer),
    "min_prefixlen": listing.exact(SubnetPool.min_prefixlen, listing.to_integer),
    "max_prefixlen": listing.exact(SubnetPool.max_prefixlen, listing.to_integer),
    "shared": listing.boolean(SubnetPool.shared),
    "is_default": listing.boolean(SubnetPool.is_default),
    "address_scope_id": listing.nullable(SubnetPool.address_scope_id),
}, sort_keys={
    **listing.standard_sort_keys(SubnetPool),
    "ip_version": SubnetPool.ip_version, "default_prefixlen": SubnetPool.default_prefixlen,
    "min_prefixlen": SubnetPool.min_prefixlen, "max_prefixlen": SubnetPool.max_prefixlen,
    "shared": SubnetPool.shared, "is_default": SubnetPool.is_default,
})


def _check_one_default(ip_version: int, exclude: str | None = None):
    query = SubnetPool.select().where(SubnetPool.is_default == True,  # noqa: E712
                                      SubnetPool.ip_version == ip_version)
    if exclude:
        query = query.where(SubnetPool.id != exclude)
    existing = query.first()
    if existing is not None:
        raise Conflict(f"A default subnetpool for this IP family has already been set. Only "
                       f"one default may exist per IP family ({existing.id}).",
                       type="InvalidSubnetPoolDefault")


@blueprint.post("/v2.0/subnetpools")
def create_subnetpool():
    values = attributes.parse("subnetpool", SUBNETPOOL, attributes.body("subnetpool"),
                              creating=True)
    project_id = policy.project_for_create(values)
    target = {"project_id": project_id, "network_project_id": project_id}
    policy.enforce("create_subnetpool", target)
    policy.enforce_attributes("create_subnetpool", values, target, ["shared", "is_default"])
    ip_version, prefixes = subnetpools.compact(values["prefixes"])
    minimum, maximum, default = subnetpools.bounds(
        ip_version, values.get("min_prefixlen"), values.get("max_prefixlen"),
        values.get("default_prefixlen"))
    with db.transaction():
        if values.get("is_default"):
            _check_one_default(ip_version)
        quotas.check(config(), project_id, "subnetpool")
        pool = SubnetPool.create(
            project_id=project_id, name=values.get("name", ""),
            description=values.get("description", ""), ip_version=ip_version,
            prefixes=prefixes, default_prefixlen=default, min_prefixlen=minimum,
            max_prefixlen=maximum, default_quota=values.get("default_quota"),
            shared=values.get("shared", False), is_default=values.get("is_default", False))
        for tag in values.get("tags", []):
            Tag.create(resource_type="subnetpools", resource_id=pool.id, tag=tag)
    return views.show("subnetpool", render([pool])[0], 201)


@blueprint.get("/v2.0/subnetpools")
def list_subnetpools():
    query = listing.where(SubnetPool.select(), policy.visible_subnetpools())
    return listing.respond(SUBNETPOOLS, query, render)


@blueprint.get("/v2.0/subnetpools/<pool_id>")
def show_subnetpool(pool_id):
    return views.show("subnetpool", render([policy.find_subnetpool(pool_id)])[0])


def _check_prefixes_kept(pool: SubnetPool, prefixes: list[str]):
    """Prefixes may grow, never shrink (Neutron: existing prefixes must stay covered)."""
    new = [ipaddress.ip_network(p) for p in prefixes]
    for old in pool.prefixes:
        if not any(ipaddress.ip_network(old).subnet_of(n) for n in new):
            raise BadRequest(f"Illegal update to prefixes: existing prefix {old} must be kept "
                             "(prefixes may only grow).", type="IllegalSubnetPoolPrefixUpdate")


@blueprint.put("/v2.0/subnetpools/<pool_id>")
def update_subnetpool(pool_id):
    pool = policy.find_subnetpool(pool_id)
    target = policy.target(pool, kind="Subnet pool")
    policy.enforce("update_subnetpool", target)
    values = attributes.parse("subnetpool", SUBNETPOOL, attributes.body("subnetpool"),
                              creating=False)
    policy.enforce_attributes("update_subnetpool", values, target, ["is_default"])
    with db.transaction():
        pool = SubnetPool.get_by_id(pool.id)
        if "prefixes" in values:
            ip_version, prefixes = subnetpools.compact(values["prefixes"])
            if ip_version != pool.ip_version:
                raise BadRequest("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.",
                                 type="PrefixVersionMismatch")
            _check_prefixes_kept(pool, prefixes)
            pool.prefixes = prefixes
        pool.min_prefixlen, pool.max_prefixlen, pool.default_prefixlen = subnetpools.bounds(
            pool.ip_version, values.get("min_prefixlen", pool.min_prefixlen),
            values.get("max_prefixlen", pool.max_prefixlen),
            values.get("default_prefixlen", pool.default_prefixlen))
        if values.get("is_default"):
            _check_one_default(pool.ip_version, exclude=pool.id)
        for name in ("name", "description", "default_quota", "is_default"):
            if name in values:
                setattr(pool, name, values[name])
        pool.revision_number += 1
        pool.save()
    return views.show("subnetpool", render([pool])[0])


@blueprint.delete("/v2.0/subnetpools/<pool_id>")
def delete_subnetpool(pool_id):
    pool = policy.find_subnetpool(pool_id)
    policy.enforce("delete_subnetpool", policy.target(pool, kind="Subnet pool"))
    with db.transaction():
        if Subnet.select().where(Subnet.subnetpool == pool.id).exists():
            raise Conflict(f"Unable to complete operation on subnet pool {pool.id}: Subnets "
                           "are still allocated from it.", type="SubnetPoolInUse")
        Tag.delete().where(Tag.resource_type == "subnetpools",
                           Tag.resource_id == pool.id).execute()
        SubnetPool.delete().where(SubnetPool.id == pool.id).execute()
    return views.no_content()
