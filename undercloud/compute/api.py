"""Compute's HTTP surface: Nova v2.1 on :8774, composed of undercloud/compute/routes/<module>.py."""
import re

from flask import Blueprint, g, request

from undercloud.common import versions
from undercloud.common.auth import public
from undercloud.common.errors import BadRequest, NotFound
from undercloud.common.microversions import Microversions
from undercloud.compute.routes import (audit_log, diagnostics, external_events, flavors, hosts,
                                       images, instance_actions, interfaces, keypairs,
                                       legacy_hosts, limits, security_groups, server_actions,
                                       server_groups, server_metadata, server_tags, servers,
                                       usage)

blueprint = Blueprint("compute", __name__)
for routes in (flavors, keypairs, servers, server_actions, server_metadata, server_tags,
               instance_actions, limits, hosts, legacy_hosts, server_groups, usage,
               external_events, images, audit_log, diagnostics, interfaces, security_groups):
    blueprint.register_blueprint(routes.blueprint)

# Old clients put the project in the URL (/v2.1/<project id>/servers); Nova still accepts it.
_PROJECT_IN_PATH = re.compile(r"^/v2(?:\.1)?/([0-9a-fA-F]{32}|[0-9a-fA-F-]{36})(/.*)?$")
URL_PROJECT = "stackbox.url_project_id"


def _project_in_path(wsgi_app):
    def middleware(environ, start_response):
        match = _PROJECT_IN_PATH.match(environ.get("PATH_INFO", ""))
        if match:
            environ[URL_PROJECT] = match.group(1)
            environ["PATH_INFO"] = "/v2.1" + (match.group(2) or "")
        return wsgi_app(environ, start_response)
    return middleware


def init_app(app, config):
    app.wsgi_app = _project_in_path(app.wsgi_app)


@blueprint.before_request
def url_project_matches_token():
    project_id = request.environ.get(URL_PROJECT)
    context = g.get("context")
    if project_id and context is not None and project_id != context.project_id:
        raise BadRequest(f"Malformed request URL: URL's project_id '{project_id}' doesn't match "
                         f"Context's project_id '{context.project_id}'")


MICROVERSIONS = Microversions("compute", "2.1", "2.79",
                              legacy_header="X-OpenStack-Nova-API-Version")


def _v21():
    return {"id": "v2.1", "status": "CURRENT", "version": MICROVERSIONS.maximum,
            "min_version": MICROVERSIONS.minimum, "updated": "2013-07-23T11:33:21Z",
            "links": [versions.link("/v2.1/")],
            "media-types": versions.media_type("compute", "v2.1")}


def _v20():
    # Nova still lists the legacy v2.0 API; Stackbox serves only v2.1, as its endpoint says.
    return {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
            "updated": "2011-01-21T11:33:21Z", "links": [versions.link("/v2/")]}


@blueprint.get("/")
@public
def discovery():
    return versions.respond({"versions": [_v20(), _v21()]})


@blueprint.get("/v2.1")
@public
def v21():
    return versions.respond({"version": _v21()})


@blueprint.get("/v2")
@public
def v20():
    return versions.respond({"version": {**_v20(), "media-types": versions.media_type(
        "compute", "v2")}})


# Nova froze its extension list in 2.1; these are the ones whose APIs Stackbox serves.
EXTENSIONS = {
    "os-attach-interfaces": "AttachInterfaces",
    "os-availability-zone": "AvailabilityZone", "os-consoles": "Consoles",
    "os-console-output": "ConsoleOutput", "os-extended-status": "ExtendedStatus",
    "os-flavor-access": "FlavorAccess", "os-flavor-extra-specs": "FlavorExtraSpecs",
    "os-flavor-manage": "FlavorManage", "os-hypervisors": "Hypervisors", "os-hosts": "Hosts",
    "os-instance-actions": "InstanceActions", "os-keypairs": "Keypairs",
    "os-lock-server": "LockServer", "os-pause-server": "PauseServer",
    "os-quota-sets": "Quotas", "os-security-groups": "SecurityGroups",
    "os-server-groups": "ServerGroups",
    "os-server-tags": "ServerTags", "os-services": "Services",
    "os-simple-tenant-usage": "SimpleTenantUsage", "os-suspend-server": "SuspendServer",
    "servers": "Servers", "flavors": "Flavors", "limits": "Limits",
    "server-metadata": "ServerMetadata", "os-server-external-events": "ServerExternalEvents",
}


def _extension(alias: str) -> dict:
    return {"alias": alias, "name": EXTENSIONS[alias], "description": EXTENSIONS[alias],
            "links": [], "namespace": "http://docs.openstack.org/compute/ext/fake_xml",
            "updated": "2014-12-03T00:00:00Z"}


@blueprint.get("/v2.1/extensions")
def extensions():
    return versions.respond({"extensions": [_extension(a) for a in sorted(EXTENSIONS)]})


@blueprint.get("/v2.1/extensions/<alias>")
def extension(alias):
    if alias not in EXTENSIONS:
        raise NotFound("Extension not found")
    return versions.respond({"extension": _extension(alias)})
