"""Schema routes: /v2/schemas/image(s) and /v2/schemas/member(s), which clients read."""
from flask import Blueprint

from undercloud.image import schemas

blueprint = Blueprint("image_schemas", __name__)


@blueprint.get("/v2/schemas/image")
def image_schema():
    return schemas.image()


@blueprint.get("/v2/schemas/images")
def images_schema():
    return schemas.images()


@blueprint.get("/v2/schemas/member")
def member_schema():
    return schemas.member()


@blueprint.get("/v2/schemas/members")
def members_schema():
    return schemas.members()
