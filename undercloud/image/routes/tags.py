"""Image tag routes: PUT and DELETE /v2/images/{id}/tags/{tag}."""
import peewee
from flask import Blueprint, current_app

from undercloud import db
from undercloud.common import errors
from undercloud.image import policy
from undercloud.image.models import Image, ImageTag

blueprint = Blueprint("image_tags", __name__)
MAX_TAG_LENGTH = 255


def _touch(image: Image):
    image.save(only=[])  # the tag list is part of the image: its updated_at moves


@blueprint.put("/v2/images/<image_id>/tags/<path:tag>")
def add_tag(image_id, tag):
    image = policy.find_image(image_id)
    policy.enforce("modify_image", image)
    if len(tag) > MAX_TAG_LENGTH:
        raise errors.BadRequest(f"Tag {tag[:40]!r}... is longer than {MAX_TAG_LENGTH} "
                                "characters.")
    limit = current_app.config["STACKBOX"]["image"]["image_tag_quota"]
    with db.transaction():
        if ImageTag.select().where(ImageTag.image == image.id, ImageTag.value == tag).exists():
            return current_app.response_class(status=204)  # adding a tag twice changes nothing
        count = ImageTag.select().where(ImageTag.image == image.id).count()
        if 0 <= limit <= count:
            raise errors.PayloadTooLarge(f"Maximum number of image tags exceeded: image "
                                         f"{image.id} has {count} of {limit} tags.")
        try:
            ImageTag.create(image=image.id, value=tag)
        except peewee.IntegrityError:
            pass  # another request added it a moment ago
        _touch(image)
    return current_app.response_class(status=204)


@blueprint.delete("/v2/images/<image_id>/tags/<path:tag>")
def delete_tag(image_id, tag):
    image = policy.find_image(image_id)
    policy.enforce("modify_image", image)
    with db.transaction():
        removed = ImageTag.delete().where(ImageTag.image == image.id,
                                          ImageTag.value == tag).execute()
        if not removed:
            raise errors.NotFound(f"Tag {tag} not found on image {image.id}.")
        _touch(image)
    return current_app.response_class(status=204)
