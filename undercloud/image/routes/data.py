"""Image data routes: upload and download /v2/images/{id}/file, stage and import.

Uploads stream (marked @streaming, so the API's body-size limit does not apply) from the
request in chunks straight to the store; downloads hand the stored file to the server, which
sends it with sendfile() when it can. Range requests answer 206 with one byte range.
"""
import logging

from flask import Blueprint, current_app, g, request
from werkzeug.wsgi import wrap_file

from undercloud.common import errors
from undercloud.common.validation import json_body
from undercloud.common.wsgi import streaming
from undercloud.image import lifecycle, policy, stores
from undercloud.image.drivers import DataNotFound
from undercloud.image.incoming import md5_header

LOG = logging.getLogger(__name__)
blueprint = Blueprint("image_data", __name__)
DOWNLOAD_BUFFER = 1024 * 1024
OTHER_METHODS = ("web-download", "glance-download", "copy-image")


class RangeNotSatisfiable(errors.ApiError):
    code, title = 416, "Requested Range Not Satisfiable"


def _config():
    return current_app.config["STACKBOX"]


def _no_content():
    return current_app.response_class(status=204)


def _check_octet_stream():
    content_type = (request.content_type or "application/octet-stream").split(";")[0].strip()
    if content_type.lower() != "application/octet-stream":
        raise errors.UnsupportedMediaType(
            f"Content type {content_type} is not supported for image data; send "
            "application/octet-stream.")


def _declared_size() -> int | None:
    """The size the client promises (x-openstack-image-size, else Content-Length), if any."""
    text = request.headers.get("x-openstack-image-size")
    if text is None:
        return request.content_length
    try:
        size = int(text)
    except ValueError:
        size = -1
    if size < 0:
        raise errors.BadRequest(f"Invalid x-openstack-image-size {text!r}: it must be the "
                                "image's size in bytes.")
    return size


@blueprint.put("/v2/images/<image_id>/file")
@streaming
def upload_data(image_id):
    image = policy.find_image(image_id)
    policy.enforce("upload_image", image)
    _check_octet_stream()
    lifecycle.upload(_config(), image, request.stream, _declared_size(),
                     md5_header(request.headers.get("Content-MD5")))
    LOG.info("image %s: data uploaded by project %s", image.id, g.context.project_id)
    return _no_content()


class _Window:
    """A file read from its current offset for `length` bytes; fileno() lets the server sendfile."""

    def __init__(self, stream, length: int):
        self.stream, self.left = stream, length

    def fileno(self):
        return self.stream.fileno()

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.read(size)
        self.left -= len(data)
        return data

    def close(self):
        self.stream.close()


def _byte_range(size: int):
    """(start, stop) of the one range asked for, None for the whole image, or 416."""
    if "Range" not in request.headers:
        return None
    asked = request.range
    if asked is None or asked.units != "bytes":
        raise RangeNotSatisfiable(f"The Range header {request.headers['Range']!r} cannot be "
                                  "read; use bytes=START-END.",
                                  headers={"Content-Range": f"bytes */{size}"})
    if len(asked.ranges) != 1:
        return None  # several ranges: send the whole image, as RFC 9110 allows
    span = asked.range_for_length(size)
    if span is None:
        raise RangeNotSatisfiable(f"The range {request.headers['Range']} is outside the "
                                  f"image's {size} bytes.",
                                  headers={"Content-Range": f"bytes */{size}"})
    return span


@blueprint.get("/v2/images/<image_id>/file")
def download_data(image_id):
    image = policy.find_image(image_id)
    policy.enforce("download_image", image)
    if image.status == "deactivated" and not g.context.is_admin:
        raise errors.Forbidden("The requested image has been deactivated. Image data download "
                               "is prohibited.")
    if not image.location or image.status not in ("active", "deactivated"):
        return _no_content()
    try:
        stream = stores.store(_config()).open(image.location)
    except DataNotFound:
        LOG.error("image %s: its data is missing from the store", image.id)
        return _no_content()
    try:
        span = _byte_range(image.size)
    except BaseException:
        stream.close()
        raise
    headers = {"Content-Type": "application/octet-stream"}
    if span is None:
        start, stop, status = 0, image.size, 200
        if image.checksum:  # the whole image's md5, so only on a whole-image answer
            headers["Content-MD5"] = image.checksum
    else:
        (start, stop), status = span, 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{image.size}"
    stream.seek(start)
    headers["Content-Length"] = str(stop - start)
    body = wrap_file(request.environ, _Window(stream, stop - start), DOWNLOAD_BUFFER)
    return current_app.response_class(body, status=status, headers=headers,
                                      direct_passthrough=True)


@blueprint.put("/v2/images/<image_id>/stage")
@streaming
def stage_data(image_id):
    image = policy.find_image(image_id)
    policy.enforce("modify_image", image)
    _check_octet_stream()
    lifecycle.stage(_config(), image, request.stream, _declared_size())
    return _no_content()


def _import_request() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise errors.BadRequest("The import request must be a JSON object with a 'method'.")
    method = body.get("method")
    if method is None:
        raise errors.BadRequest("Import request requires a 'method' field.")
    if not isinstance(method, dict) or "name" not in method:
        raise errors.BadRequest("Import request requires a 'name' field.")
    name = method["name"]
    if name not in lifecycle.IMPORT_METHODS:
        known = "known but not enabled here" if name in OTHER_METHODS else "unknown"
        raise errors.BadRequest(f"Import method {name!r} is {known}; this site offers: "
                                f"{', '.join(lifecycle.IMPORT_METHODS)}.")
    for flag in ("all_stores", "all_stores_must_succeed"):
        if flag in body and not isinstance(body[flag], bool):
            raise errors.BadRequest(f"'{flag}' must be boolean value only")
    stores_asked = body.get("stores")
    if stores_asked is not None and (not isinstance(stores_asked, list)
                                     or set(stores_asked) - {stores.STORE_ID}):
        raise errors.BadRequest(f"Unknown stores {stores_asked!r}; this site has one store, "
                                f"'{stores.STORE_ID}'.")
    return body


@blueprint.post("/v2/images/<image_id>/import")
def import_image(image_id):
    image = policy.find_image(image_id)
    body = _import_request()
    policy.enforce("modify_image", image)
    lifecycle.start_import(_config(), image, body, g.context, g.request_id)
    return current_app.response_class(status=202)
