"""Telemetry's HTTP surface: a Gnocchi-style metric API v1 on :8777."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public

blueprint = Blueprint("telemetry", __name__)


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"versions": [{"id": "v1.0", "status": "CURRENT",
                                           "updated": "2015-03-19T00:00:00Z",
                                           "links": [versions.link("/v1/")]}]})
