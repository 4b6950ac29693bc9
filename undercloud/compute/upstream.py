"""Compute's calls to the image and network services' HTTP APIs with the caller's token, as
Nova makes them, so what the caller may see and change stays those services' decision."""
import json
import urllib.error
import urllib.request

TIMEOUT = 30


class ServiceError(Exception):
    """The service answered with an error (status), or could not be reached (None)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def request(config, service: str, token: str, method: str, path: str, body=None,
            content_type: str = "application/json"):
    """The JSON answer of SERVICE's endpoint + path (None when empty)."""
    url = f"{config.endpoint(service)}{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "X-Auth-Token": token or "", "Content-Type": content_type,
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        raise ServiceError(exc.code, exc.read().decode(errors="replace")[:500]) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServiceError(None, f"the {service} service is unreachable: {exc}") from None
