"""The app factory: one Flask app per service with the shared middleware attached once.

Every response carries x-openstack-request-id; errors come back in the
service's own api-ref shape and never with a traceback; bodies are size
limited; microversions are negotiated; tokens are validated locally.
"""
import importlib
import logging
import time
import uuid

import peewee
from flask import Flask, current_app, g, request
from werkzeug.exceptions import HTTPException

from undercloud import db
from undercloud.common import auth, errors
from undercloud.services import Service

REQUEST_ID_HEADER = "x-openstack-request-id"


def streaming(view):
    """Mark a view that reads a body of any size as a stream (image upload)."""
    view.stackbox_streaming = True
    return view


def create_app(config, service: Service, validate_token=None, module=None) -> Flask:
    """The service's app; `module` (with a `blueprint`) defaults to undercloud.<service>.api."""
    module = module or importlib.import_module(service.api_module)
    db.connect(config)  # API processes hold the DB handle; connect() is idempotent and fork-safe
    app = Flask(f"undercloud.{service.name}")
    app.config["STACKBOX"] = config
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    app.extensions["stackbox"] = {
        "service": service,
        "log": logging.getLogger(f"undercloud.{service.name}.wsgi"),
        "microversions": getattr(module, "MICROVERSIONS", None),
        "validate_token": validate_token or auth.default_validator(config),
    }
    app.register_blueprint(module.blueprint)
    app.before_request(_start)
    app.before_request(_limit_body)
    app.before_request(_negotiate)
    app.before_request(auth.authenticate)
    app.after_request(_finish)
    app.register_error_handler(errors.ApiError, _api_error)
    app.register_error_handler(HTTPException, lambda e: _api_error(errors.from_http_exception(e)))
    app.register_error_handler(Exception, _unexpected)
    if hasattr(module, "init_app"):
        module.init_app(app, config)
    return app


def _stackbox():
    return current_app.extensions["stackbox"]


def _start():
    g.started = time.monotonic()
    g.request_id = f"req-{uuid.uuid4()}"
    g.api_version = None


def _limit_body():
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "stackbox_streaming", False):
        request.max_content_length = None
        return
    limit = current_app.config["STACKBOX"]["api"]["max_body_bytes"]
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise errors.PayloadTooLarge(f"The request body has {request.content_length} bytes; "
                                     f"this service accepts at most {limit}.")


def _negotiate():
    versions = _stackbox()["microversions"]
    if versions is not None:
        g.api_version = versions.negotiate(request.headers)


def _finish(response):
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    service = _stackbox()["service"]
    if service.name == "compute":
        response.headers["x-compute-request-id"] = g.get("request_id", "")
    versions = _stackbox()["microversions"]
    if versions is not None:
        response.headers.update(versions.response_headers(g.get("api_version")))
    elapsed = time.monotonic() - g.get("started", time.monotonic())
    _stackbox()["log"].info("%s %s %s %.4fs", request.method, request.path,
                            response.status_code, elapsed)
    return response


def _api_error(error: errors.ApiError):
    body, content_type = errors.render(error, _stackbox()["service"].error_style)
    response = current_app.response_class(body, status=error.code, content_type=content_type)
    if error.code == 401:
        response.headers.update(auth.challenge_header(current_app.config["STACKBOX"]))
    response.headers.update(error.headers)
    return response


def _unexpected(exc: Exception):
    columns = db.unique_columns(exc) if isinstance(exc, peewee.IntegrityError) else None
    if columns:
        # A unique rule no view expected to break: say which, rather than a bare 500.
        _stackbox()["log"].warning("%s %s collided on (%s)", request.method, request.path,
                                   ", ".join(columns))
        return _api_error(errors.Conflict(
            f"The request conflicts with an existing record: ({', '.join(columns)}) must be "
            "unique."))
    # Log the traceback for operators; the client gets the service's 500 body only.
    _stackbox()["log"].exception("unexpected error serving %s %s", request.method, request.path)
    return _api_error(errors.Internal())
