"""Bare metal's HTTP surface: Ironic v1 on :6385."""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public
from undercloud.common.microversions import Microversions

blueprint = Blueprint("baremetal", __name__)
MICROVERSIONS = Microversions("baremetal", "1.1", "1.1",
                              legacy_header="X-OpenStack-Ironic-API-Version",
                              min_max_headers=True)


def _v1():
    return {"id": "v1", "status": "CURRENT", "version": MICROVERSIONS.maximum,
            "min_version": MICROVERSIONS.minimum, "links": [versions.link("/v1/")]}


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"name": "OpenStack Ironic API",
                             "description": "Ironic is an OpenStack project which aims "
                                            "to provision baremetal machines.",
                             "default_version": _v1(), "versions": [_v1()]})


@blueprint.get("/v1")
@public
def v1():
    return versions.respond({"id": "v1", "links": [versions.link("/v1/")],
                             "media_types": [{"base": "application/json",
                                              "type": "application/vnd.openstack.ironic.v1+json"}]})
