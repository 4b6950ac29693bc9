"""The metadata API on :8775: what a guest learns about itself over HTTP, in the OpenStack
(/openstack/<version>/meta_data.json ...) and EC2 (/<version>/meta-data/...) formats.

The same documents as the config drive (guestinfo.drive_for). Guests reach it through the
network's metadata proxy, which names the instance as Neutron's does: X-Instance-ID,
X-Tenant-ID and X-Instance-ID-Signature, the HMAC-SHA256 of the instance id with the metadata
secret both sides share. A request without a valid signature learns nothing.
"""
import hashlib
import hmac
import json

from flask import Blueprint, Response, current_app, request

from undercloud.common import errors
from undercloud.common.auth import public
from undercloud.common.secrets import metadata_secret
from undercloud.compute import guestinfo, records
from undercloud.compute.configdrive import EC2_VERSIONS, OPENSTACK_VERSIONS
from undercloud.compute.models import Instance

blueprint = Blueprint("metadata", __name__)
# The EC2 versions Nova lists at the root.
EC2_ROOT_VERSIONS = ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
                     "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04", "latest"]


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _json(document) -> Response:
    return Response(json.dumps(document), mimetype="application/json")


def signature(config, instance_id: str) -> str:
    """What the metadata proxy sends as X-Instance-ID-Signature for instance_id."""
    return hmac.new(metadata_secret(config), instance_id.encode(), hashlib.sha256).hexdigest()


def _instance() -> dict:
    """The caller, as the metadata proxy names and signs it."""
    instance_id = request.headers.get("X-Instance-ID")
    project_id = request.headers.get("X-Tenant-ID")
    if not instance_id:
        raise errors.BadRequest("X-Instance-ID header is missing from request.")
    given = request.headers.get("X-Instance-ID-Signature", "")
    expected = signature(current_app.config["STACKBOX"], instance_id)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise errors.Forbidden("Invalid proxy request signature.")
    if not project_id:
        raise errors.BadRequest("X-Tenant-ID header is missing from request.")
    instance = Instance.get_or_none(Instance.id == instance_id, Instance.deleted == False)  # noqa
    if instance is None or instance.project_id != project_id:
        raise errors.NotFound(f"Instance {instance_id} is not known to the metadata service.")
    return records.instance_record(instance)


@blueprint.get("/")
@public
def root():
    return _text("\n".join(EC2_ROOT_VERSIONS + ["openstack"]))


@blueprint.get("/openstack")
@public
def openstack_versions():
    return _text("\n".join(version for version, _ in OPENSTACK_VERSIONS))


@blueprint.get("/openstack/<version>")
@public
def openstack_listing(version):
    names = dict(OPENSTACK_VERSIONS).get(version)
    if names is None:
        raise errors.NotFound(f"No metadata version {version}.")
    record = _instance()
    if record.get("user_data") is None:
        names = names - {"user_data"}
    return _text("\n".join(sorted(names)))


@blueprint.get("/openstack/<version>/<name>")
@public
def openstack_document(version, name):
    names = dict(OPENSTACK_VERSIONS).get(version)
    if names is None or name not in names:
        raise errors.NotFound(f"No metadata document {version}/{name}.")
    drive = guestinfo.drive_for(_instance())
    files = drive.files()
    path = f"openstack/{version}/{name}"
    if path not in files:
        raise errors.NotFound(f"The instance has no {name}.")
    if name == "user_data":
        return Response(files[path], mimetype="application/octet-stream")
    return Response(files[path], mimetype="application/json")


def _ec2_version(version):
    if version not in EC2_ROOT_VERSIONS:
        raise errors.NotFound(f"No metadata version {version}.")


@blueprint.get("/<version>")
@public
def ec2_listing(version):
    _ec2_version(version)
    return _text("meta-data/\nuser-data" if _instance().get("user_data") else "meta-data/")


@blueprint.get("/<version>/user-data")
@public
def ec2_user_data(version):
    _ec2_version(version)
    data = guestinfo.user_data(_instance())
    if data is None:
        raise errors.NotFound("The instance has no user data.")
    return Response(data, mimetype="application/octet-stream")


@blueprint.get("/<version>/meta-data")
@blueprint.get("/<version>/meta-data/<path:path>")
@public
def ec2_meta_data(version, path=""):
    _ec2_version(version)
    document = guestinfo.drive_for(_instance()).ec2_meta_data()
    node = document
    for part in [part for part in path.split("/") if part]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict) and part.split("=")[0] in node:
            node = node[part.split("=")[0]]
        else:
            raise errors.NotFound(f"No meta-data at {path}.")
    if isinstance(node, dict):
        if path.rstrip("/") == "public-keys":
            return _text("\n".join(f"{index}=key" for index in node))
        return _text("\n".join(f"{key}/" if isinstance(value, dict) else key
                               for key, value in node.items()))
    return _text(str(node))


__all__ = ["blueprint", "EC2_VERSIONS"]
