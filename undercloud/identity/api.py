"""Identity's HTTP surface: Keystone v3 under /v3 on :5000."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public
from undercloud.identity.routes import (application_credentials, assignments, auth, catalog,
                                        domains, groups, projects, roles, users)

blueprint = Blueprint("identity", __name__)
for routes in (auth, domains, projects, users, groups, roles, assignments, catalog,
               application_credentials):
    blueprint.register_blueprint(routes.blueprint)
V3_UPDATED = "2024-04-01T00:00:00Z"


def _v3():
    return {"id": "v3.14", "status": "stable", "updated": V3_UPDATED,
            "links": [versions.link("/v3/")],
            "media-types": versions.media_type("identity", "v3")}


@blueprint.get("/")
@public
def discovery():
    # Keystone answers 300 Multiple Choices with the versions under "values".
    return versions.respond({"versions": {"values": [_v3()]}}, status=300)


@blueprint.get("/v3")
@public
def v3():
    return versions.respond({"version": _v3()})
