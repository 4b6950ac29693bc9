"""Helpers for version-discovery documents (GET / on every API port)."""
from flask import jsonify, request


def base_url() -> str:
    """The URL the client used to reach us, without a trailing slash."""
    return request.host_url.rstrip("/")


def link(path: str, rel: str = "self") -> dict:
    return {"href": f"{base_url()}{path}", "rel": rel}


def media_type(service: str, version: str) -> list[dict]:
    return [{"base": "application/json",
             "type": f"application/vnd.openstack.{service}-{version}+json"}]


def respond(document: dict, status: int = 200):
    response = jsonify(document)
    response.status_code = status
    return response
