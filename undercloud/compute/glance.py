"""The image service as the caller sees it: compute asks Glance v2 over HTTP with the user's
token, as Nova does, so image visibility rules stay the image service's."""
import json
import urllib.error
import urllib.request
from urllib.parse import quote

from undercloud.common.errors import BadRequest

TIMEOUT = 30


class ImageServiceError(Exception):
    """The image service answered with an error (status), or could not be reached (None)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _request(config, token: str, method: str, path: str, body=None,
             content_type: str = "application/json"):
    url = f"{config.endpoint('image')}{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "X-Auth-Token": token or "", "Content-Type": content_type,
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        raise ImageServiceError(exc.code, exc.read().decode(errors="replace")[:500]) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ImageServiceError(None, f"the image service is unreachable: {exc}") from None


def get_image(config, token: str, image_id: str) -> dict | None:
    """The image document, or None when the caller cannot see an image with that id."""
    try:
        return _request(config, token, "GET", f"/v2/images/{quote(image_id, safe='')}")
    except ImageServiceError as exc:
        if exc.status in (400, 404):
            return None
        raise BadRequest(f"Cannot look up image {image_id}: {exc}") from None


def create_image(config, token: str, properties: dict) -> dict:
    """A queued image (a snapshot's record) owned by the caller's project."""
    try:
        return _request(config, token, "POST", "/v2/images", properties)
    except ImageServiceError as exc:
        raise BadRequest(f"The image service refused the snapshot image: {exc}") from None


def delete_image(config, token: str, image_id: str):
    try:
        _request(config, token, "DELETE", f"/v2/images/{quote(image_id, safe='')}")
    except ImageServiceError:
        pass  # best effort: a queued image left behind is harmless and visible to its owner


def list_images(config, token: str, query: str = "") -> dict:
    """One page of Glance's image list ({"images": [...], "next": ...})."""
    try:
        return _request(config, token, "GET", f"/v2/images{'?' + query if query else ''}")
    except ImageServiceError as exc:
        if exc.status == 400:
            raise BadRequest(f"The image service refused the listing: {exc}") from None
        raise


def update_image(config, token: str, image_id: str, changes: list[dict]) -> dict:
    """Apply JSON-patch `changes` (add/replace/remove of properties) to an image."""
    return _request(config, token, "PATCH", f"/v2/images/{quote(image_id, safe='')}", changes,
                    "application/openstack-images-v2.1-json-patch")


def remove_image(config, token: str, image_id: str):
    """Delete an image, raising ImageServiceError (404, 403, 409) when Glance refuses."""
    _request(config, token, "DELETE", f"/v2/images/{quote(image_id, safe='')}")
