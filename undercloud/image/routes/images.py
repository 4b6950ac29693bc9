"""Image routes: create, list, show, update (JSON-patch) and delete /v2/images."""
import logging

import peewee
from flask import Blueprint, current_app, g, request

from undercloud import db
from undercloud.common import errors, versions
from undercloud.common.validation import json_body
from undercloud.image import attributes, lifecycle, listing, patch, policy, quotas, schemas, views
from undercloud.image.models import Image, ImageProperty, ImageTag, new_image_id

LOG = logging.getLogger(__name__)
blueprint = Blueprint("image_images", __name__)

# Written by the server only; Glance answers 403 when a create body names them.
NOT_IN_CREATE = ("direct_url", "self", "file", "schema", "stores")


def _config():
    return current_app.config["STACKBOX"]


def _json(document, status=200, headers=None):
    response = current_app.json.response(document)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _body_object():
    body = json_body()
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object of image attributes.")
    return body


@blueprint.post("/v2/images", strict_slashes=True)
def create_image():
    body = _body_object()
    for name in NOT_IN_CREATE:
        if name in body:
            raise errors.Forbidden(f"Attribute '{name}' is read-only.")
    problem = schemas.problem(body)
    if problem:
        raise errors.BadRequest(problem)
    for name in body:
        patch.check_name(name, creating=True)
    owner = body.get("owner", g.context.project_id)
    policy.enforce("add_image", project_id=owner, owner=owner,
                   message=None if owner == g.context.project_id else
                   f"You are not permitted to create images owned by '{owner}'.")
    policy.enforce_visibility(body.get("visibility", "shared"), project_id=owner, owner=owner)
    quotas.check_count(_config(), owner)

    image = Image(id=body.get("id") or new_image_id(), owner=owner)
    tags: list = []
    properties = {}
    for name, value in body.items():
        if name in attributes.WRITABLE:
            attributes.set_attribute(image, tags, name, value, creating=True)
        elif name != "id":
            properties[name] = value
    attributes.check_limits(_config(), properties, tags)
    try:
        with db.transaction():
            image.save(force_insert=True)
            _save_extras(image, properties, tags)
    except peewee.IntegrityError:
        raise errors.Conflict(f"Image with identifier {image.id} already exists!") from None
    LOG.info("image %s created by project %s", image.id, g.context.project_id)
    return _json(views.image(image, properties, tags), 201, {
        "Location": f"{versions.base_url()}/v2/images/{image.id}",
        "OpenStack-image-import-methods": ",".join(lifecycle.IMPORT_METHODS)})


def _save_extras(image: Image, properties: dict, tags: list, before=None):
    """Write the image's properties and tags, touching only the rows that changed."""
    old_properties, old_tags = before or ({}, [])
    gone = [name for name in old_properties if name not in properties]
    if gone:
        ImageProperty.delete().where(ImageProperty.image == image.id,
                                     ImageProperty.name.in_(gone)).execute()
    for name, value in properties.items():
        if name not in old_properties:
            ImageProperty.create(image=image.id, name=name, value=value)
        elif old_properties[name] != value:
            ImageProperty.update(value=value).where(ImageProperty.image == image.id,
                                                    ImageProperty.name == name).execute()
    removed = [tag for tag in old_tags if tag not in tags]
    if removed:
        ImageTag.delete().where(ImageTag.image == image.id, ImageTag.value.in_(removed)).execute()
    for tag in tags:
        if tag not in old_tags:
            ImageTag.create(image=image.id, value=tag)


@blueprint.get("/v2/images", strict_slashes=True)
def list_images():
    policy.enforce("get_images", project_id=g.context.project_id)

    def find_marker(image_id):
        marker = Image.get_or_none(Image.id == image_id)
        return marker if marker is not None and policy.visible(marker, g.context) else None

    settings = _config()
    rows, more = listing.page(request.args, g.context, settings["image"]["limit_param_default"],
                              settings["api"]["max_page_size"], find_marker)
    return _json({"images": views.images(rows), **listing.links(request.args, rows, more)})


@blueprint.get("/v2/images/<image_id>")
def show_image(image_id):
    image = policy.find_image(image_id)
    policy.enforce("get_image", image)
    return _json(views.image(image))


@blueprint.patch("/v2/images/<image_id>")
def update_image(image_id):
    image = policy.find_image(image_id)
    changes = patch.parse(request.headers.get("Content-Type"), json_body())
    if not changes:
        return _json(views.image(image))
    policy.enforce("modify_image", image)
    properties_by_id, tags_by_id = views.extras([image.id])
    old_properties, old_tags = properties_by_id[image.id], tags_by_id[image.id]
    properties, tags = dict(old_properties), list(old_tags)
    before = {name: getattr(image, name) for name in attributes.WRITABLE if name != "tags"}
    attributes.apply(image, properties, tags, changes)
    attributes.check_limits(_config(), properties, tags)
    changed = [getattr(Image, name) for name, value in before.items()
               if getattr(image, name) != value]
    try:
        with db.transaction():
            # Only the changed columns, so an upload finishing meanwhile keeps its status.
            if not image.save(only=changed):
                raise errors.NotFound(f"No image found with ID {image.id}")
            _save_extras(image, properties, tags, (old_properties, old_tags))
    except peewee.IntegrityError:
        raise errors.NotFound(f"No image found with ID {image.id}") from None
    return _json(views.image(Image.get_or_none(Image.id == image.id) or image, properties, tags))


@blueprint.delete("/v2/images/<image_id>")
def delete_image(image_id):
    image = policy.find_image(image_id)
    policy.enforce("delete_image", image)
    if image.protected:
        raise errors.Forbidden(f"Image {image.id} is protected and cannot be deleted.")
    with db.transaction():
        # The location as deleted, not as read: an upload may have finished in between.
        deleted = list(Image.delete().where(Image.id == image.id)
                       .returning(Image.location).execute())
    if not deleted:
        raise errors.NotFound(f"No image found with ID {image.id}")
    image.location = deleted[0].location
    lifecycle.discard(_config(), image)
    LOG.info("image %s deleted by project %s", image.id, g.context.project_id)
    return current_app.response_class(status=204)
