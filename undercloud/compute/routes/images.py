"""/images (before 2.36): Nova's proxy of the image service, with Nova's image view.

Every call goes to Glance v2 with the caller's token, so what the caller may see and change
is the image service's decision.
"""
from urllib.parse import urlencode

from flask import Blueprint, g, request

from undercloud.common.errors import BadRequest, Conflict, Forbidden, NotFound
from undercloud.common.validation import validate
from undercloud.compute import glance, schemas, views
from undercloud.compute.routes.common import config, no_content, respond

blueprint = Blueprint("compute_images", __name__)

_STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "uploading": "SAVING",
           "importing": "SAVING", "deleted": "DELETED", "pending_delete": "DELETED",
           "killed": "ERROR", "deactivated": "ERROR"}
_PROGRESS = {"queued": 25, "saving": 50, "uploading": 50, "importing": 50, "active": 100}
_CORE = {"id", "name", "status", "visibility", "protected", "os_hidden", "owner",
         "container_format", "disk_format", "min_disk", "min_ram", "size", "virtual_size",
         "checksum", "os_hash_algo", "os_hash_value", "created_at", "updated_at", "tags",
         "self", "file", "schema", "locations", "direct_url", "stores"}


@blueprint.before_request
def removed_in_2_36():
    if views.at_least("2.36"):
        raise NotFound("The resource could not be found.")


def _metadata(image: dict) -> dict:
    return {k: str(v) for k, v in image.items() if k not in _CORE and v is not None}


def view(image: dict, detail: bool = True) -> dict:
    links = views.links("images", image["id"])
    links.append({"rel": "alternate", "type": "application/vnd.openstack.image",
                  "href": f"{config().endpoint('image')}/images/{image['id']}"})
    shown = {"id": image["id"], "name": image.get("name"), "links": links}
    if not detail:
        return shown
    shown.update({"minRam": image.get("min_ram") or 0, "minDisk": image.get("min_disk") or 0,
                  "metadata": _metadata(image), "created": image.get("created_at"),
                  "updated": image.get("updated_at"),
                  "status": _STATUS.get(image.get("status"), "UNKNOWN"),
                  "progress": _PROGRESS.get(image.get("status"), 0),
                  "OS-EXT-IMG-SIZE:size": image.get("size")})
    if image.get("instance_uuid"):
        shown["server"] = {"id": image["instance_uuid"],
                           "links": views.links("servers", image["instance_uuid"])}
    return shown


def _find(image_id: str) -> dict:
    image = glance.get_image(config(), g.context.token, image_id)
    if image is None:
        raise NotFound("Image not found.")
    return image


def _listing(detail: bool):
    args = request.args
    query = {}
    for ours, theirs in (("name", "name"), ("limit", "limit"), ("marker", "marker")):
        if args.get(ours):
            query[theirs] = args[ours]
    status = args.get("status")
    if status:
        wanted = [k for k, v in _STATUS.items() if v == status.upper()]
        if not wanted:
            return respond({"images": []})
        query["status"] = wanted[0]
    if args.get("changes-since"):
        query["updated_at"] = f"gte:{args['changes-since']}"
    page = glance.list_images(config(), g.context.token, urlencode(query))
    images = page.get("images", [])
    for arg, field in (("minRam", "min_ram"), ("minDisk", "min_disk")):
        if args.get(arg):
            try:
                floor = int(args[arg])
            except ValueError:
                raise BadRequest(f"Invalid {arg} filter [{args[arg]}]") from None
            images = [i for i in images if (i.get(field) or 0) >= floor]
    if args.get("server"):
        server = args["server"].rstrip("/").rsplit("/", 1)[-1]
        images = [i for i in images if i.get("instance_uuid") == server]
    if args.get("type"):
        images = [i for i in images if (i.get("image_type") or "image") == args["type"]]
    document = {"images": [view(i, detail) for i in images]}
    if page.get("next") and images:
        following = urlencode({**args.to_dict(), "marker": images[-1]["id"]})
        document["images_links"] = [{"rel": "next",
                                     "href": f"{request.base_url}?{following}"}]
    return respond(document)


@blueprint.get("/v2.1/images")
def list_images():
    return _listing(detail=False)


@blueprint.get("/v2.1/images/detail")
def list_images_detail():
    return _listing(detail=True)


@blueprint.get("/v2.1/images/<image_id>")
def show_image(image_id):
    return respond({"image": view(_find(image_id))})


@blueprint.delete("/v2.1/images")
def delete_without_id():
    raise NotFound("Image not found.")


@blueprint.delete("/v2.1/images/<image_id>")
def delete_image(image_id):
    try:
        glance.remove_image(config(), g.context.token, image_id)
    except glance.CloudError as exc:
        if exc.status == 404:
            raise NotFound("Image not found.") from None
        if exc.status == 403:
            raise Forbidden(f"You are not allowed to delete image {image_id}.") from None
        if exc.status == 409:
            raise Conflict(f"Image {image_id} is protected or in use.") from None
        raise
    return no_content()


# Image metadata: the image's additional properties.

def _patch(image_id: str, changes: list[dict]) -> dict:
    try:
        return glance.update_image(config(), g.context.token, image_id, changes)
    except glance.CloudError as exc:
        if exc.status == 404:
            raise NotFound("Image not found.") from None
        if exc.status == 403:
            raise Forbidden(f"You are not allowed to change image {image_id}.") from None
        if exc.status == 413:
            raise Forbidden("Quota exceeded for metadata_items.") from None
        raise BadRequest(f"The image service refused the change: {exc}") from None


def _set(image: dict, values: dict, replace: bool) -> dict:
    current = _metadata(image)
    changes = [{"op": "replace" if key in current else "add", "path": f"/{key}",
                "value": value} for key, value in values.items()]
    if replace:
        changes += [{"op": "remove", "path": f"/{key}"} for key in current if key not in values]
    if not changes:
        return image
    return _patch(image["id"], changes)


@blueprint.get("/v2.1/images/<image_id>/metadata")
def list_image_metadata(image_id):
    return respond({"metadata": _metadata(_find(image_id))})


@blueprint.post("/v2.1/images/<image_id>/metadata")
@validate(schemas.METADATA_BODY)
def update_image_metadata(image_id):
    image = _set(_find(image_id), g.body["metadata"], replace=False)
    return respond({"metadata": _metadata(image)})


@blueprint.put("/v2.1/images/<image_id>/metadata")
@validate(schemas.METADATA_BODY)
def replace_image_metadata(image_id):
    image = _set(_find(image_id), g.body["metadata"], replace=True)
    return respond({"metadata": _metadata(image)})


@blueprint.get("/v2.1/images/<image_id>/metadata/<key>")
def show_image_metadata_item(image_id, key):
    metadata = _metadata(_find(image_id))
    if key not in metadata:
        raise NotFound(f"Image {image_id} has no metadata item {key}.")
    return respond({"meta": {key: metadata[key]}})


@blueprint.put("/v2.1/images/<image_id>/metadata/<key>")
@validate(schemas.METADATA_ITEM)
def set_image_metadata_item(image_id, key):
    if key not in g.body["meta"]:
        raise BadRequest("Request body and URI mismatch")
    _set(_find(image_id), g.body["meta"], replace=False)
    return respond({"meta": g.body["meta"]})


@blueprint.delete("/v2.1/images/<image_id>/metadata/<key>")
def delete_image_metadata_item(image_id, key):
    image = _find(image_id)
    if key not in _metadata(image):
        raise NotFound(f"Image {image_id} has no metadata item {key}.")
    _patch(image_id, [{"op": "remove", "path": f"/{key}"}])
    return no_content()
