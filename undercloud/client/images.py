"""The image service's records and bytes as a compute host or the bare-metal conductor use
them. Calls go out with the user's token from the request context, as Nova's do; work done
without a user's request (a reconcile) falls back to a token of the cloud's admin."""
import os
import threading
import time

from undercloud.client import http
from undercloud.client.session import Session
from undercloud.common.secrets import admin_password

CHUNK = 1024 * 1024
# Keystone's tokens last an hour; a fresh one well before that.
SERVICE_TOKEN_SECONDS = 600


class ImageClient:
    def __init__(self, config):
        self.config = config
        self._service_token = None
        self._service_token_at = 0.0
        self._lock = threading.Lock()

    def _token(self, context: dict | None) -> str:
        return (context or {}).get("token") or self.service_token()

    def service_token(self) -> str:
        """A project-scoped admin token, for work done without a user's request."""
        with self._lock:
            if self._service_token and \
                    time.monotonic() - self._service_token_at < SERVICE_TOKEN_SECONDS:
                return self._service_token
            try:
                password = admin_password(self.config)
            except OSError:
                raise http.CloudError("no user token came with this request and this host "
                                      "has no admin credentials to read images with") from None
            session = Session({"auth": {
                "auth_url": self.config.endpoint("identity"), "username": "admin",
                "password": password, "project_name": "admin"}})
            session.login()
            self._service_token, self._service_token_at = session.token, time.monotonic()
            return self._service_token

    def _open(self, context, method, path, data=None, headers=None):
        return http.open_url(f"{self.config.endpoint('image')}{path}", method, data,
                             {"X-Auth-Token": self._token(context), **(headers or {})})

    def get(self, context: dict | None, image_id: str) -> dict:
        return http.send(f"{self.config.endpoint('image')}/v2/images/{image_id}",
                         token=self._token(context))[1]

    def data(self, context: dict | None, image_id: str):
        """The image's bytes, in chunks."""
        with self._open(context, "GET", f"/v2/images/{image_id}/file") as response:
            while chunk := response.read(CHUNK):
                yield chunk

    def upload(self, context: dict | None, image_id: str, path: str) -> None:
        with open(path, "rb") as data:
            with self._open(context, "PUT", f"/v2/images/{image_id}/file", data=data,
                            headers={"Content-Type": "application/octet-stream",
                                     "Content-Length": str(os.path.getsize(path))}):
                pass

    def delete(self, context: dict | None, image_id: str) -> None:
        with self._open(context, "DELETE", f"/v2/images/{image_id}"):
            pass
