"""Network's HTTP surface: Neutron v2.0 on :9696."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public

blueprint = Blueprint("network", __name__)


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"versions": [{"id": "v2.0", "status": "CURRENT",
                                           "links": [versions.link("/v2.0/")]}]})
