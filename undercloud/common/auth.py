"""Token validation in every API: the hook the identity service fills.

A validator is a callable taking the token text and returning a
RequestContext, or raising Unauthorized. Services validate locally (no round
trip to identity). Views marked @public skip it (version documents, token
issue).
"""
import importlib
import logging

from flask import current_app, g, request

from undercloud.common.errors import Unauthorized

LOG = logging.getLogger(__name__)
VALIDATOR_MODULE = "undercloud.identity.tokens"


def public(view):
    """Mark a view as reachable without a token."""
    view.stackbox_public = True
    return view


def _no_validator(token):
    raise Unauthorized("The identity service is not enabled, so no token can be validated.")


def default_validator(config):
    """The identity service's local validator, when that service is installed."""
    try:
        module = importlib.import_module(VALIDATOR_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != VALIDATOR_MODULE:
            raise
        return _no_validator
    return module.validator(config)


def authenticate():
    """before_request: put the caller's RequestContext on g, or answer 401."""
    view = current_app.view_functions.get(request.endpoint)
    token = request.headers.get("X-Auth-Token")
    g.context = None
    if view is None or getattr(view, "stackbox_public", False):
        if token and view is not None:
            g.context = _try(token)
        return
    if not token:
        raise Unauthorized()
    g.context = current_app.extensions["stackbox"]["validate_token"](token)
    g.context.request_id = g.request_id


def _try(token):
    try:
        return current_app.extensions["stackbox"]["validate_token"](token)
    except Unauthorized:
        return None


def challenge_header(config) -> dict:
    """WWW-Authenticate, which keystoneauth reads to find identity."""
    return {"WWW-Authenticate": f'Keystone uri="{config.endpoint("identity")}"'}
