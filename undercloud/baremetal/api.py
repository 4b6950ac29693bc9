"""Bare metal's HTTP surface: Ironic v1 on :6385, composed of undercloud/baremetal/routes/.

Microversions 1.1 to 1.94: node and port documents show each field from the version that
added it. Ironic's endpoints for chassis, portgroups, volumes, allocations, deploy templates,
runbooks, traits, BIOS, firmware, virtual media and events are not served (404).
"""
from flask import Blueprint

from undercloud.baremetal.routes import (agent, conductors, drivers, node_listing,
                                         node_management, node_states, nodes, ports)
from undercloud.common import versions
from undercloud.common.auth import public
from undercloud.common.microversions import Microversions

blueprint = Blueprint("baremetal", __name__)
for routes in (node_listing, nodes, node_states, node_management, ports, drivers, conductors,
               agent):
    blueprint.register_blueprint(routes.blueprint)

MICROVERSIONS = Microversions("baremetal", "1.1", "1.94",
                              legacy_header="X-OpenStack-Ironic-API-Version",
                              min_max_headers=True)
# The collections GET /v1/ links to.
RESOURCES = ("nodes", "ports", "drivers", "conductors", "lookup", "heartbeat",
             "continue_inspection")


def _version():
    return {"id": "v1", "status": "CURRENT", "version": MICROVERSIONS.maximum,
            "min_version": MICROVERSIONS.minimum, "links": [versions.link("/v1/")]}


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"name": "OpenStack Ironic API",
                             "description": "Ironic is an OpenStack project which aims "
                                            "to provision baremetal machines.",
                             "default_version": _version(), "versions": [_version()]})


@blueprint.get("/v1")
@public
def v1():
    document = {"id": "v1", "links": [versions.link("/v1/")],
                "media_types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.ironic.v1+json"}]}
    for name in RESOURCES:
        document[name] = [versions.link(f"/v1/{name}/"), versions.link(f"/{name}/", "bookmark")]
    document["version"] = _version()
    return versions.respond(document)
