"""/servers/{id}/tags (2.26+): simple string tags on a server."""
import peewee
from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import BadRequest, NotFound
from undercloud.common.validation import check, validate
from undercloud.compute import policy, schemas, views
from undercloud.compute.models import Instance, InstanceTag
from undercloud.compute.routes.common import no_content, respond

blueprint = Blueprint("compute_server_tags", __name__)
MAX_TAGS = 50


@blueprint.before_request
def needs_2_26():
    if not views.at_least("2.26"):
        raise NotFound("The resource could not be found.")


def _server(server_id, action: str):
    server = policy.find_server(server_id)
    policy.enforce(f"server-tags:{action}", project_id=server.project_id)
    return server


def _touch(server):
    Instance.update(updated_at=db.utcnow()).where(Instance.id == server.id).execute()


@blueprint.get("/v2.1/servers/<server_id>/tags")
def list_tags(server_id):
    return respond({"tags": views.tags(_server(server_id, "index"))})


@blueprint.put("/v2.1/servers/<server_id>/tags")
@validate(schemas.TAGS_BODY)
def replace_tags(server_id):
    server = _server(server_id, "update")
    tags = list(dict.fromkeys(g.body["tags"]))
    with db.transaction():
        InstanceTag.delete().where(InstanceTag.instance == server.id).execute()
        for tag in tags:
            InstanceTag.create(instance=server.id, tag=tag)
        _touch(server)
    return respond({"tags": views.tags(server)})


@blueprint.delete("/v2.1/servers/<server_id>/tags")
def delete_tags(server_id):
    server = _server(server_id, "update")
    with db.transaction():
        InstanceTag.delete().where(InstanceTag.instance == server.id).execute()
        _touch(server)
    return no_content()


@blueprint.get("/v2.1/servers/<server_id>/tags/<tag>")
def check_tag(server_id, tag):
    server = _server(server_id, "index")
    if not InstanceTag.select().where(InstanceTag.instance == server.id,
                                      InstanceTag.tag == tag).exists():
        raise NotFound(f"Instance {server.id} has no tag '{tag}'")
    return no_content()


@blueprint.put("/v2.1/servers/<server_id>/tags/<tag>")
def add_tag(server_id, tag):
    check(tag, schemas.TAG)
    server = _server(server_id, "update")
    location = views.links("servers", server.id)[0]["href"] + f"/tags/{tag}"
    with db.transaction():
        existing = InstanceTag.select().where(InstanceTag.instance == server.id)
        if existing.where(InstanceTag.tag == tag).exists():
            response = no_content()
            response.headers["Location"] = location
            return response
        if existing.count() >= MAX_TAGS:
            raise BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
        try:
            InstanceTag.create(instance=server.id, tag=tag)
        except peewee.IntegrityError:
            pass  # added by a concurrent request: the tag is there either way
        _touch(server)
    response = no_content(201)
    response.headers["Location"] = location
    return response


@blueprint.delete("/v2.1/servers/<server_id>/tags/<tag>")
def delete_tag(server_id, tag):
    server = _server(server_id, "update")
    with db.transaction():
        removed = InstanceTag.delete().where(InstanceTag.instance == server.id,
                                             InstanceTag.tag == tag).execute()
        if not removed:
            raise NotFound(f"Instance {server.id} has no tag '{tag}'")
        _touch(server)
    return no_content()
