"""Drivers (Ironic's hardware types): the one this cloud has, "ipmi", on its live conductors."""
from flask import Blueprint, request

from undercloud.baremetal import interfaces, policy, views
from undercloud.baremetal.routes.common import alive_conductors, bool_arg, respond
from undercloud.common.errors import BadRequest, NotFound

blueprint = Blueprint("baremetal_drivers", __name__)


def _hosts() -> list[str]:
    return [row.hostname for row in alive_conductors()]


def _check(name: str):
    if name != interfaces.DRIVER:
        raise NotFound(f"Could not find the following driver(s) or hardware type(s): {name}.")


@blueprint.get("/v1/drivers")
def index():
    policy.enforce("baremetal:driver:get")
    kind = request.args.get("type")
    if kind not in (None, "classic", "dynamic"):
        raise BadRequest(f"Invalid driver type {kind}: use classic or dynamic.")
    drivers = [] if kind == "classic" else [
        views.driver(interfaces.DRIVER, _hosts(), bool(bool_arg("detail")))]
    return respond({"drivers": drivers})


@blueprint.get("/v1/drivers/<name>")
def show(name):
    policy.enforce("baremetal:driver:get")
    _check(name)
    return respond(views.driver(name, _hosts(), detail=True))


@blueprint.get("/v1/drivers/<name>/properties")
def properties(name):
    policy.enforce("baremetal:driver:get_properties")
    _check(name)
    return respond(interfaces.PROPERTIES)
