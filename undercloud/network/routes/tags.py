"""/v2.0/<resources>/<id>/tags: Neutron's tag extension, the same for every tagged resource."""
from flask import Blueprint

from undercloud import db
from undercloud.common import validation
from undercloud.common.errors import NotFound
from undercloud.network import faults, policy, views
from undercloud.network.models import FloatingIP, Router, SecurityGroup, Tag

blueprint = Blueprint("tags", __name__)

MAX_TAG_LENGTH = 255


def _owned(model, kind: str):
    def find(resource_id):
        row = model.get_or_none(model.id == resource_id)
        if row is None or not (policy.is_admin()
                               or row.project_id == policy.context().project_id):
            raise faults.not_found(kind, resource_id)
        return row
    return find


# The collection in the URL -> (how to find the row the caller sees, its kind in errors).
RESOURCES = {
    "networks": (policy.find_network, "Network"),
    "subnets": (policy.find_subnet, "Subnet"),
    "ports": (policy.find_port, "Port"),
    "subnetpools": (policy.find_subnetpool, "Subnet pool"),
    "routers": (_owned(Router, "Router"), "Router"),
    "floatingips": (_owned(FloatingIP, "Floating IP"), "Floating IP"),
    "security-groups": (_owned(SecurityGroup, "Security group"), "Security group"),
    "security_groups": (_owned(SecurityGroup, "Security group"), "Security group"),
}


def _resource(collection: str, resource_id: str):
    if collection not in RESOURCES:
        raise faults.not_found("Resource", collection)
    find, _ = RESOURCES[collection]
    return find(resource_id)


def _tag_type(collection: str) -> str:
    return collection.replace("-", "_")


def _tags(collection: str, resource_id: str) -> list[str]:
    return views.tags_by_id(_tag_type(collection), [resource_id])[resource_id]


def _writable(collection: str, resource_id: str):
    row = _resource(collection, resource_id)
    policy.enforce("update_tags", policy.target(row, kind=RESOURCES[collection][1]))
    return row


def _check_tag(tag):
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH:
        raise faults.invalid_input(f"'{tag}' is not a valid tag: use a string of 1 to "
                                   f"{MAX_TAG_LENGTH} characters")
    return tag


def _bump(row):
    row.revision_number += 1
    row.save(only=[type(row).revision_number])


@blueprint.get("/v2.0/<collection>/<resource_id>/tags")
def list_tags(collection, resource_id):
    _resource(collection, resource_id)
    return views.respond({"tags": _tags(collection, resource_id)})


@blueprint.get("/v2.0/<collection>/<resource_id>/tags/<tag>")
def check_tag(collection, resource_id, tag):
    _resource(collection, resource_id)
    if tag not in _tags(collection, resource_id):
        raise _tag_not_found(tag, collection, resource_id)
    return views.no_content()


def _tag_not_found(tag, collection, resource_id):
    return NotFound(f"Tag {tag} could not be found for {_tag_type(collection)[:-1]} "
                    f"{resource_id}.", type="TagNotFound")


@blueprint.put("/v2.0/<collection>/<resource_id>/tags")
def replace_tags(collection, resource_id):
    row = _writable(collection, resource_id)
    body = validation.json_body()
    tags = body.get("tags") if isinstance(body, dict) else None
    if not isinstance(tags, list):
        raise faults.invalid_input("The body must be {\"tags\": [tag, ...]}")
    tags = list(dict.fromkeys(_check_tag(tag) for tag in tags))
    with db.transaction():
        Tag.delete().where(Tag.resource_type == _tag_type(collection),
                           Tag.resource_id == resource_id).execute()
        for tag in tags:
            Tag.create(resource_type=_tag_type(collection), resource_id=resource_id, tag=tag)
        _bump(row)
    return views.respond({"tags": sorted(tags)})


@blueprint.put("/v2.0/<collection>/<resource_id>/tags/<tag>")
def add_tag(collection, resource_id, tag):
    row = _writable(collection, resource_id)
    _check_tag(tag)
    with db.transaction():
        if tag not in _tags(collection, resource_id):
            Tag.create(resource_type=_tag_type(collection), resource_id=resource_id, tag=tag)
            _bump(row)
    return views.no_content(201)


@blueprint.delete("/v2.0/<collection>/<resource_id>/tags")
def delete_tags(collection, resource_id):
    row = _writable(collection, resource_id)
    with db.transaction():
        Tag.delete().where(Tag.resource_type == _tag_type(collection),
                           Tag.resource_id == resource_id).execute()
        _bump(row)
    return views.no_content()


@blueprint.delete("/v2.0/<collection>/<resource_id>/tags/<tag>")
def delete_tag(collection, resource_id, tag):
    row = _writable(collection, resource_id)
    with db.transaction():
        deleted = Tag.delete().where(Tag.resource_type == _tag_type(collection),
                                     Tag.resource_id == resource_id, Tag.tag == tag).execute()
        if not deleted:
            raise _tag_not_found(tag, collection, resource_id)
        _bump(row)
    return views.no_content()
