"""API errors, and the error body each service's api-ref specifies.

Raise an ApiError subclass anywhere in a request; the app factory renders it
in the serving service's own shape. Messages name the resource, the wrong
value and what would be right.
"""
import json

from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    code = 500
    title = "Internal Server Error"
    message = "An unexpected error prevented the server from fulfilling your request."

    def __init__(self, message=None, *, type=None, headers=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        # The NeutronError/heat "type", e.g. NetworkNotFound; defaults per status.
        self.type = type
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    code, title = 400, "Bad Request"
    message = "The request is malformed or invalid."


class Unauthorized(ApiError):
    code, title = 401, "Unauthorized"
    message = "The request you have made requires authentication."


class Forbidden(ApiError):
    code, title = 403, "Forbidden"
    message = "You are not authorized to perform the requested action."


class NotFound(ApiError):
    code, title = 404, "Not Found"
    message = "The resource could not be found."


class MethodNotAllowed(ApiError):
    code, title = 405, "Method Not Allowed"
    message = "The method is not allowed for this resource."


class NotAcceptable(ApiError):
    code, title = 406, "Not Acceptable"
    message = "The requested version or media type is not supported."


class Conflict(ApiError):
    code, title = 409, "Conflict"
    message = "The request conflicts with the resource's current state."


class PayloadTooLarge(ApiError):
    code, title = 413, "Request Entity Too Large"
    message = "The request body is larger than this service accepts."


class UnsupportedMediaType(ApiError):
    code, title = 415, "Unsupported Media Type"
    message = "The request's content type is not supported."


class Internal(ApiError):
    pass


class ServiceUnavailable(ApiError):
    code, title = 503, "Service Unavailable"
    message = "The service is unavailable; try again later."


_BY_CODE = {cls.code: cls for cls in (BadRequest, Unauthorized, Forbidden, NotFound,
                                       MethodNotAllowed, NotAcceptable, Conflict,
                                       PayloadTooLarge, UnsupportedMediaType,
                                       ServiceUnavailable)}


def from_http_exception(exc: HTTPException) -> ApiError:
    """Werkzeug's routing errors (404, 405, 413) as our own."""
    cls = _BY_CODE.get(exc.code, ApiError)
    error = cls(cls.message if cls is not ApiError else None)
    if cls is ApiError:
        error.code, error.title = exc.code, exc.name
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        error.headers["Allow"] = ", ".join(exc.valid_methods)
    return error


# Nova's fault names (nova/api/openstack/wsgi.py), which cinder shares.
_NOVA_FAULTS = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
                404: "itemNotFound", 405: "badMethod", 406: "notAcceptable",
                409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
                429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}

_NEUTRON_TYPES = {400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "HTTPForbidden",
                  404: "HTTPNotFound", 405: "HTTPMethodNotAllowed", 406: "HTTPNotAcceptable",
                  409: "HTTPConflict", 413: "HTTPRequestEntityTooLarge",
                  415: "HTTPUnsupportedMediaType", 503: "HTTPServiceUnavailable"}

JSON = "application/json"


def _keystone(e):
    return {"error": {"code": e.code, "title": e.title, "message": e.message}}, JSON


def _nova(e):
    return {_NOVA_FAULTS.get(e.code, "computeFault"): {"code": e.code, "message": e.message}}, JSON


def _neutron(e):
    kind = e.type or _NEUTRON_TYPES.get(e.code, "HTTPInternalServerError")
    return {"NeutronError": {"type": kind, "message": e.message, "detail": ""}}, JSON


def _glance(e):
    return {"code": f"{e.code} {e.title}", "title": e.title, "message": e.message}, JSON


def _ironic(e):
    # Ironic nests a JSON document in a string; python-ironicclient decodes it.
    fault = {"faultcode": "Client" if e.code < 500 else "Server",
             "faultstring": e.message, "debuginfo": None}
    return {"error_message": json.dumps(fault)}, JSON


def _heat(e):
    return {"code": e.code, "title": e.title, "explanation": e.message,
            "error": {"message": e.message, "type": e.type or e.__class__.__name__,
                      "traceback": None}}, JSON


def _gnocchi(e):
    return {"code": e.code, "title": e.title, "description": e.message}, JSON


def _swift(e):
    return f"<html><h1>{e.title}</h1><p>{e.message}</p></html>", "text/html; charset=UTF-8"


STYLES = {"keystone": _keystone, "nova": _nova, "neutron": _neutron, "glance": _glance,
          "ironic": _ironic, "heat": _heat, "gnocchi": _gnocchi, "swift": _swift}


def render(error: ApiError, style: str) -> tuple[str, str]:
    """The body text and content type of an error in a service's style."""
    body, content_type = STYLES[style](error)
    return (json.dumps(body) if not isinstance(body, str) else body), content_type
