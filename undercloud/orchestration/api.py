"""Orchestration's HTTP surface: Heat v1 on :8004."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public

blueprint = Blueprint("orchestration", __name__)


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"versions": [{"id": "v1.0", "status": "CURRENT",
                                           "links": [versions.link("/v1/")]}]}, status=300)
