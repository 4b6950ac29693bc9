"""Conductors (1.49): the processes that drive the hardware, from the rows they keep fresh."""
from flask import Blueprint

from undercloud.baremetal import policy, views
from undercloud.baremetal.models import Conductor
from undercloud.baremetal.routes.common import (bool_arg, endpoint_since, is_alive, respond,
                                                require)
from undercloud.common.errors import NotFound

blueprint = Blueprint("baremetal_conductors", __name__)


@blueprint.get("/v1/conductors")
def index():
    endpoint_since(49)
    policy.enforce("baremetal:conductor:get")
    detail = bool_arg("detail")
    if detail is not None:
        require(43)
    rows = Conductor.select().order_by(Conductor.hostname)
    return respond({"conductors": [views.conductor(row, is_alive(row), bool(detail))
                                   for row in rows]})


@blueprint.get("/v1/conductors/<hostname>")
def show(hostname):
    endpoint_since(49)
    policy.enforce("baremetal:conductor:get")
    row = Conductor.get_or_none(Conductor.hostname == hostname)
    if row is None:
        raise NotFound(f"Conductor {hostname} could not be found.")
    return respond(views.conductor(row, is_alive(row), detail=True))
