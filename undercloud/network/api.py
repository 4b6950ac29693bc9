"""Network's HTTP surface: Neutron v2.0 on :9696, composed of undercloud/network/routes/<module>.py.

To add a resource, write routes/<resource>.py with a `blueprint` and list it in ROUTES.
"""
from flask import Blueprint

from undercloud.common import versions
from undercloud.common.auth import public
from undercloud.network.routes import (agents, availability_zones, extensions, networks, ports,
                                       quotas, subnetpools, subnets, tags)
from undercloud.network.routes import (floatingips, routers, security_group_rules,
                                       security_groups)

ROUTES = [networks, subnets, subnetpools, ports, quotas, agents, availability_zones, extensions,
          tags, routers, floatingips, security_groups, security_group_rules]

blueprint = Blueprint("network", __name__)
for routes in ROUTES:
    blueprint.register_blueprint(routes.blueprint)

# GET /v2.0/ names the core resources (tempest's test_show_api_v2_details).
CORE_RESOURCES = (("network", "networks"), ("subnet", "subnets"), ("subnetpool", "subnetpools"),
                  ("port", "ports"))


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"versions": [{"id": "v2.0", "status": "CURRENT",
                                           "links": [versions.link("/v2.0/")]}]})


@blueprint.get("/v2.0")
@public
def version_resources():
    return versions.respond({"resources": [
        {"name": name, "collection": collection,
         "links": [versions.link(f"/v2.0/{collection}")]}
        for name, collection in CORE_RESOURCES]})
