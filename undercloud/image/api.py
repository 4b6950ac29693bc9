"""Image's HTTP surface: Glance v2 on :9292, composed of undercloud/image/routes/<module>.py."""
from flask import Blueprint, current_app, request

from undercloud.common import errors, versions
from undercloud.common.auth import public
from undercloud.image.routes import actions, data, images, info, members, schemas, tags, tasks

blueprint = Blueprint("image", __name__)
for routes in (images, data, members, tags, actions, schemas, info, tasks):
    blueprint.register_blueprint(routes.blueprint)


@blueprint.before_request
def refuse_nul_characters():
    """400 for a NUL in the path, query or a JSON body: no image, tag or id can hold one."""
    texts = [request.path, *(part for item in request.args.items(multi=True) for part in item)]
    if any("\x00" in text for text in texts):
        raise errors.BadRequest("The request's path or query holds a NUL character.")
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and not getattr(view, "stackbox_streaming", False):
        body = request.get_data(cache=True)
        if b"\x00" in body or b"\\u0000" in body:
            raise errors.BadRequest("The request body holds a NUL character.")


CURRENT = "2.16"
# Every earlier minor version stays usable, as in Glance.
SUPPORTED = [f"2.{minor}" for minor in range(15, -1, -1)]


def _document():
    listed = [(CURRENT, "CURRENT")] + [(version, "SUPPORTED") for version in SUPPORTED]
    return {"versions": [{"id": f"v{version}", "status": status,
                          "links": [versions.link("/v2/")]} for version, status in listed]}


@blueprint.get("/")
@public
def discovery():
    # Glance answers 300 at the root and 200 at /versions.
    return versions.respond(_document(), status=300)


@blueprint.get("/versions")
@public
def version_list():
    return versions.respond(_document())

