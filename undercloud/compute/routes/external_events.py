"""os-server-external-events: other services (network, volume) tell compute about a server.

Nothing in Stackbox waits on these yet (there is no network or volume service); they are
checked and acknowledged as Nova does, so those services can send them from the start.
"""
from flask import Blueprint, g

from undercloud.common.errors import BadRequest, NotFound
from undercloud.common.validation import validate
from undercloud.compute import policy, views
from undercloud.compute.models import Instance
from undercloud.compute.routes.common import respond

blueprint = Blueprint("compute_external_events", __name__)

EVENT_NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged",
               "network-vif-deleted", "volume-extended", "power-update"]
SCHEMA = {
    "type": "object",
    "properties": {"events": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "properties": {"server_uuid": {"type": "string"}, "name": {"enum": EVENT_NAMES},
                       "status": {"enum": ["failed", "completed", "in-progress"]},
                       "tag": {"type": "string", "maxLength": 255}},
        "required": ["server_uuid", "name"], "additionalProperties": False}}},
    "required": ["events"], "additionalProperties": False,
}


@blueprint.post("/v2.1/os-server-external-events")
@validate(SCHEMA)
def create_events():
    policy.enforce("server-external-events")
    answered, found = [], 0
    for event in g.body["events"]:
        if event["name"] == "volume-extended" and not views.at_least("2.51") or \
                event["name"] == "power-update" and not views.at_least("2.76"):
            raise BadRequest(f"Invalid input for field/attribute name. Value: {event['name']}.")
        item = {"status": "completed", **event}
        server = Instance.get_or_none(Instance.id == event["server_uuid"],
                                      Instance.deleted == False)  # noqa: E712
        if server is None or not server.host:
            item.update(code=404, status="failed")
        else:
            item["code"] = 200
            found += 1
        answered.append(item)
    if not found:
        raise NotFound("No instances found for any event")
    return respond({"events": answered}, 200 if found == len(answered) else 207)
