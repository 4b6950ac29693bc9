"""Volume's HTTP surface: Cinder v3 on :8776."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public
from undercloud.common.microversions import Microversions

blueprint = Blueprint("volume", __name__)
MICROVERSIONS = Microversions("volume", "3.0", "3.0")


@blueprint.get("/")
@public
def discovery():
    document = {"id": "v3.0", "status": "CURRENT", "version": MICROVERSIONS.maximum,
                "min_version": MICROVERSIONS.minimum, "updated": "2023-08-31T00:00:00Z",
                "links": [versions.link("/v3/")],
                "media-types": versions.media_type("volume", "v3")}
    return versions.respond({"versions": [document]}, status=300)
