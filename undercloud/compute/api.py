"""Compute's HTTP surface: Nova v2.1 on :8774."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public
from undercloud.common.microversions import Microversions

blueprint = Blueprint("compute", __name__)
MICROVERSIONS = Microversions("compute", "2.1", "2.1",
                              legacy_header="X-OpenStack-Nova-API-Version")


def _v21():
    return {"id": "v2.1", "status": "CURRENT", "version": MICROVERSIONS.maximum,
            "min_version": MICROVERSIONS.minimum, "updated": "2013-07-23T11:33:21Z",
            "links": [versions.link("/v2.1/")],
            "media-types": versions.media_type("compute", "v2.1")}


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"versions": [_v21()]})


@blueprint.get("/v2.1")
@public
def v21():
    return versions.respond({"version": _v21()})
