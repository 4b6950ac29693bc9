"""The image service as a compute host uses it: read an image's record and bytes, upload a
snapshot. Calls go out with the user's token from the request context, as Nova's do; a
host reconciling without a user's request falls back to the undercloud admin's token."""
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request

from undercloud.compute.drivers.errors import ImageError

LOG = logging.getLogger(__name__)
CHUNK = 1024 * 1024
TIMEOUT = 60


class ImageClient:
    def __init__(self, config):
        self.config = config
        self._service_token = None
        self._service_token_at = 0.0
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self.config.endpoint("image")

    def _token(self, context: dict | None) -> str:
        token = (context or {}).get("token")
        return token or self.service_token()

    def service_token(self) -> str:
        """A project-scoped admin token, for work the host does without a user's request."""
        with self._lock:
            if self._service_token and time.monotonic() - self._service_token_at < 600:
                return self._service_token
            from undercloud.serve.secrets import admin_password
            try:
                password = admin_password(self.config)
            except OSError:
                raise ImageError("no user token came with this request and this host has "
                                 "no admin credentials to read images with") from None
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": password}}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
            request = urllib.request.Request(
                f"{self.config.endpoint('identity')}/v3/auth/tokens",
                data=json.dumps(body).encode(), method="POST",
                headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    self._service_token = response.headers["X-Subject-Token"]
            except (urllib.error.URLError, OSError) as exc:
                raise ImageError(f"cannot get a service token from the identity service: "
                                 f"{exc}") from None
            self._service_token_at = time.monotonic()
            return self._service_token

    def _open(self, context, method, path, data=None, headers=None):
        request = urllib.request.Request(f"{self.endpoint}{path}", data=data, method=method,
                                         headers={"X-Auth-Token": self._token(context),
                                                  **(headers or {})})
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            raise ImageError(f"image service refused {method} {path}: HTTP {exc.code} "
                             f"{detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ImageError(f"image service unreachable for {method} {path}: {exc}") from None

    def get(self, context: dict | None, image_id: str) -> dict:
        with self._open(context, "GET", f"/v2/images/{image_id}") as response:
            return json.loads(response.read())

    def data(self, context: dict | None, image_id: str):
        """The image's bytes, in chunks."""
        with self._open(context, "GET", f"/v2/images/{image_id}/file") as response:
            while chunk := response.read(CHUNK):
                yield chunk

    def upload(self, context: dict | None, image_id: str, path: str) -> None:
        with open(path, "rb") as data:
            size = os.path.getsize(path)
            with self._open(context, "PUT", f"/v2/images/{image_id}/file", data=data,
                            headers={"Content-Type": "application/octet-stream",
                                     "Content-Length": str(size)}):
                pass

    def delete(self, context: dict | None, image_id: str) -> None:
        with self._open(context, "DELETE", f"/v2/images/{image_id}"):
            pass
