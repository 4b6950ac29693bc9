"""One request to an OpenStack API: JSON in, JSON out, errors with the API's own message."""
import json
import urllib.error
import urllib.request

TIMEOUT = 60


class CloudError(Exception):
    """The cloud cannot be found, reached or logged in to; the message says which."""
    status: int | None = None

    @property
    def detail(self) -> str:
        return str(self)


class ApiError(CloudError):
    """The API answered with an error: ``status`` is its HTTP status, ``detail`` the API's
    own message (to pass on to a user), the message the whole story (for a log)."""

    def __init__(self, status: int, message: str, detail: str | None = None):
        super().__init__(message)
        self.status = status
        self._detail = message if detail is None else detail

    @property
    def detail(self) -> str:
        return self._detail


def error_text(body: bytes) -> str:
    """The message of an OpenStack error body (Ironic nests it as a JSON string)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:300].decode(errors="replace")
    if isinstance(document, dict) and "error_message" in document:
        inner = document["error_message"]
        try:
            inner = json.loads(inner) if isinstance(inner, str) else inner
        except ValueError:
            return inner
        return inner.get("faultstring", str(inner)) if isinstance(inner, dict) else str(inner)
    for value in (document.values() if isinstance(document, dict) else ()):
        if isinstance(value, dict) and "message" in value:
            return value["message"]
    return json.dumps(document)[:300]


def open_url(url: str, method: str = "GET", data=None, headers=None, timeout=TIMEOUT):
    """The open response (a context manager) to stream from; ApiError / CloudError else."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        detail = error_text(exc.read())
        raise ApiError(exc.code, f"{method} {url}: HTTP {exc.code}: {detail}", detail) from None
    except (urllib.error.URLError, OSError) as exc:
        raise CloudError(f"{method} {url}: cannot reach the cloud: {exc}") from None


def send(url: str, method: str = "GET", body=None, headers=None, token: str | None = None,
         timeout=TIMEOUT):
    """(response headers, the JSON answer or None when empty)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Accept": "application/json",
               **({"Content-Type": "application/json"} if data else {}),
               **({"X-Auth-Token": token} if token else {}), **(headers or {})}
    with open_url(url, method, data, headers, timeout) as response:
        payload = response.read()
        return response.headers, json.loads(payload) if payload else None
