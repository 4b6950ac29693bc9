"""Image's HTTP surface: Glance v2 on :9292."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public

blueprint = Blueprint("image", __name__)


def _document():
    return {"versions": [{"id": "v2.16", "status": "CURRENT",
                          "links": [versions.link("/v2/")]}]}


@blueprint.get("/")
@public
def discovery():
    # Glance answers 300 at the root and 200 at /versions.
    return versions.respond(_document(), status=300)


@blueprint.get("/versions")
@public
def version_list():
    return versions.respond(_document())
