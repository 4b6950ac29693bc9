"""Image member routes: share a 'shared' image with other projects, who accept or reject it.

The owner adds and removes members; only the member project itself accepts or rejects. A
member project sees just its own membership; the owner sees all of them.
"""
import logging

import peewee
from flask import Blueprint, current_app, g

from undercloud import db
from undercloud.common import errors
from undercloud.common.validation import json_body
from undercloud.image import policy, schemas, views
from undercloud.image.models import ImageMember

LOG = logging.getLogger(__name__)
blueprint = Blueprint("image_members", __name__)


def _config():
    return current_app.config["STACKBOX"]


def _require_shared(image, action: str):
    if image.visibility != "shared":
        raise errors.Forbidden(f"Not allowed to {action} members for image {image.id}: only "
                               f"shared images have members (this one is {image.visibility}).")


def _find_member(image, member_id: str) -> ImageMember:
    member = ImageMember.get_or_none(ImageMember.image == image.id,
                                     ImageMember.member == member_id)
    if member is None:
        raise errors.NotFound(f"{member_id} not found in the member list of the image "
                              f"{image.id}.")
    return member


def _body_field(name: str, example: str):
    body = json_body()
    if not isinstance(body, dict):
        raise errors.BadRequest(f"Expected a {name} in the form: {example}")
    if name not in body:
        raise errors.BadRequest(f"{name.capitalize()} not specified")
    return body[name]


@blueprint.post("/v2/images/<image_id>/members")
def add_member(image_id):
    image = policy.find_image(image_id)
    member_id = _body_field("member", '{"member": "project_id"}')
    if not isinstance(member_id, str) or not member_id.strip():
        raise errors.BadRequest("Member can't be empty")
    if len(member_id) > 255:
        raise errors.BadRequest("Member id is longer than 255 characters.")
    _require_shared(image, "create")
    policy.enforce("add_member", image, message=f"Not allowed to create members for image "
                                                f"{image.id}.")
    limit = _config()["image"]["image_member_quota"]
    try:
        with db.transaction():
            count = ImageMember.select().where(ImageMember.image == image.id).count()
            if 0 <= limit <= count:
                raise errors.PayloadTooLarge(f"Image member limit exceeded for image "
                                             f"{image.id}: it has {count} of {limit} members.")
            member = ImageMember.create(image=image.id, member=member_id)
    except peewee.IntegrityError:
        raise errors.Conflict(f"Member {member_id} is duplicated for image {image.id}") from None
    LOG.info("image %s shared with project %s", image.id, member_id)
    return views.member(member)


@blueprint.get("/v2/images/<image_id>/members")
def list_members(image_id):
    image = policy.find_image(image_id)
    _require_shared(image, "list")
    project = g.context.project_id
    own = policy.is_member(image, project)
    policy.enforce("get_members", image, member_id=project if own else None)
    query = ImageMember.select().where(ImageMember.image == image.id)
    if not g.context.is_admin and image.owner != project:
        query = query.where(ImageMember.member == project)
    members = [views.member(m) for m in query.order_by(ImageMember.created_at, ImageMember.id)]
    return {"members": members, "schema": "/v2/schemas/members"}


@blueprint.get("/v2/images/<image_id>/members/<member_id>")
def show_member(image_id, member_id):
    image = policy.find_image(image_id)
    # Glance answers 404, not 403, so nobody learns about memberships they may not see.
    if image.visibility != "shared":
        raise errors.NotFound(f"{member_id} not found in the member list of the image "
                              f"{image.id}.")
    member = _find_member(image, member_id)
    if not policy.ENFORCER.allowed("get_member", g.context.credentials(),
                                   policy.target(image, member_id)):
        raise errors.NotFound(f"{member_id} not found in the member list of the image "
                              f"{image.id}.")
    return views.member(member)


@blueprint.put("/v2/images/<image_id>/members/<member_id>")
def update_member(image_id, member_id):
    image = policy.find_image(image_id)
    status = _body_field("status", '{"status": "accepted"}')
    _require_shared(image, "update")
    member = _find_member(image, member_id)
    policy.enforce("modify_member", image, member_id=member_id,
                   message=f"Not allowed to update members for image {image.id}: only the "
                           f"member project {member_id} may accept or reject it.")
    if status not in schemas.MEMBER_STATUSES:
        raise errors.BadRequest(f'Incorrect request: Status must be "pending", "accepted" or '
                                f'"rejected" (not {status!r}).')
    with db.transaction():
        member.status = status
        member.save(only=[ImageMember.status])
    return views.member(member)


@blueprint.delete("/v2/images/<image_id>/members/<member_id>")
def delete_member(image_id, member_id):
    image = policy.find_image(image_id)
    _require_shared(image, "delete")
    member = _find_member(image, member_id)
    policy.enforce("delete_member", image, member_id=member_id,
                   message=f"Not allowed to delete members for image {image.id}.")
    with db.transaction():
        ImageMember.delete().where(ImageMember.id == member.id).execute()
    return current_app.response_class(status=204)
