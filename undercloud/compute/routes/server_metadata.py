"""/servers/{id}/metadata: the server's key/value metadata (Nova's server-metadata API)."""
from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, NotFound
from undercloud.common.validation import validate
from undercloud.compute import policy, quotas, schemas
from undercloud.compute.models import Instance
from undercloud.compute.routes.common import config, no_content, respond

blueprint = Blueprint("compute_server_metadata", __name__)


def _server(server_id, action: str):
    server = policy.find_server(server_id)
    policy.enforce(f"server-metadata:{action}", project_id=server.project_id)
    if action == "update" and server.locked and not policy.allowed(
            "servers:unlock:unlock_override", project_id=server.project_id):
        raise Conflict(f"Instance {server.id} is locked")
    return server


def _save(server, metadata: dict):
    quotas.check_metadata(config(), server.project_id, metadata)
    with db.transaction():
        Instance.update(metadata=metadata, updated_at=db.utcnow()).where(
            Instance.id == server.id).execute()
    return metadata


@blueprint.get("/v2.1/servers/<server_id>/metadata")
def list_metadata(server_id):
    return respond({"metadata": _server(server_id, "index").metadata or {}})


@blueprint.post("/v2.1/servers/<server_id>/metadata")
@validate(schemas.METADATA_BODY)
def update_metadata(server_id):
    server = _server(server_id, "update")
    merged = {**(server.metadata or {}), **g.body["metadata"]}
    return respond({"metadata": _save(server, merged)})


@blueprint.put("/v2.1/servers/<server_id>/metadata")
@validate(schemas.METADATA_BODY)
def replace_metadata(server_id):
    server = _server(server_id, "update")
    return respond({"metadata": _save(server, dict(g.body["metadata"]))})


@blueprint.get("/v2.1/servers/<server_id>/metadata/<key>")
def show_metadata_item(server_id, key):
    metadata = _server(server_id, "index").metadata or {}
    if key not in metadata:
        raise NotFound("Metadata item was not found")
    return respond({"meta": {key: metadata[key]}})


@blueprint.put("/v2.1/servers/<server_id>/metadata/<key>")
@validate(schemas.METADATA_ITEM)
def set_metadata_item(server_id, key):
    item = g.body["meta"]
    if key not in item:
        raise BadRequest("Request body and URI mismatch")
    server = _server(server_id, "update")
    _save(server, {**(server.metadata or {}), key: item[key]})
    return respond({"meta": item})


@blueprint.delete("/v2.1/servers/<server_id>/metadata/<key>")
def delete_metadata_item(server_id, key):
    server = _server(server_id, "update")
    metadata = dict(server.metadata or {})
    if key not in metadata:
        raise NotFound("Metadata item was not found")
    del metadata[key]
    _save(server, metadata)
    return no_content()
