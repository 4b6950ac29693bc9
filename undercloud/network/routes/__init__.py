"""Network API routes, one module per resource; api.py composes them into one blueprint."""
from flask import current_app


def config():
    """The running service's Stackbox config."""
    return current_app.config["STACKBOX"]
