"""The image service as the caller sees it: compute asks Glance v2 over HTTP with the user's
token, as Nova does, so image visibility rules stay the image service's."""
from urllib.parse import quote

from undercloud.client import http
from undercloud.client.http import ApiError, CloudError  # noqa: F401 (what callers catch)
from undercloud.common.errors import BadRequest

TIMEOUT = 30


def _request(config, token: str, method: str, path: str, body=None,
             content_type: str = "application/json"):
    return http.send(f"{config.endpoint('image')}{path}", method, body,
                     {"Content-Type": content_type} if body is not None else None,
                     token=token, timeout=TIMEOUT)[1]


def get_image(config, token: str, image_id: str) -> dict | None:
    """The image document, or None when the caller cannot see an image with that id."""
    try:
        return _request(config, token, "GET", f"/v2/images/{quote(image_id, safe='')}")
    except CloudError as exc:
        if exc.status in (400, 404):
            return None
        raise BadRequest(f"Cannot look up image {image_id}: {exc}") from None


def create_image(config, token: str, properties: dict) -> dict:
    """A queued image (a snapshot's record) owned by the caller's project."""
    try:
        return _request(config, token, "POST", "/v2/images", properties)
    except CloudError as exc:
        raise BadRequest(f"The image service refused the snapshot image: {exc}") from None


def delete_image(config, token: str, image_id: str):
    try:
        _request(config, token, "DELETE", f"/v2/images/{quote(image_id, safe='')}")
    except CloudError:
        pass  # best effort: a queued image left behind is harmless and visible to its owner


def list_images(config, token: str, query: str = "") -> dict:
    """One page of Glance's image list ({"images": [...], "next": ...})."""
    try:
        return _request(config, token, "GET", f"/v2/images{'?' + query if query else ''}")
    except CloudError as exc:
        if exc.status == 400:
            raise BadRequest(f"The image service refused the listing: {exc}") from None
        raise


def update_image(config, token: str, image_id: str, changes: list[dict]) -> dict:
    """Apply JSON-patch `changes` (add/replace/remove of properties) to an image."""
    return _request(config, token, "PATCH", f"/v2/images/{quote(image_id, safe='')}", changes,
                    "application/openstack-images-v2.1-json-patch")


def remove_image(config, token: str, image_id: str):
    """Delete an image, raising CloudError (404, 403, 409) when Glance refuses."""
    _request(config, token, "DELETE", f"/v2/images/{quote(image_id, safe='')}")
