"""Object storage's HTTP surface: Swift v1 on :8080."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public

blueprint = Blueprint("object", __name__)


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"versions": [{"id": "v1.0", "status": "CURRENT",
                                           "links": [versions.link("/v1/")]}]})


@blueprint.get("/info")
@public
def info():
    # Swift's capability document, which clients read before using features.
    return versions.respond({"swift": {"version": "stackbox"}})
