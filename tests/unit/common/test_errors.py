"""Each service's error body is its own api-ref's shape."""
import json

from undercloud.common import errors


def body(style, error):
    text, content_type = errors.render(error, style)
    return json.loads(text) if content_type.startswith("application/json") else text


def test_nova_and_cinder_fault_names():
    assert body("nova", errors.NotFound("Flavor x could not be found.")) == {
        "itemNotFound": {"code": 404, "message": "Flavor x could not be found."}}
    assert "badRequest" in body("nova", errors.BadRequest())
    assert "conflictingRequest" in body("nova", errors.Conflict())


def test_keystone_shape():
    assert body("keystone", errors.Unauthorized()) == {"error": {
        "code": 401, "title": "Unauthorized",
        "message": "The request you have made requires authentication."}}


def test_neutron_shape_with_type():
    assert body("neutron", errors.NotFound("Network x could not be found.",
                                           type="NetworkNotFound")) == {
        "NeutronError": {"type": "NetworkNotFound", "message": "Network x could not be found.",
                         "detail": ""}}
    assert body("neutron", errors.Conflict())["NeutronError"]["type"] == "HTTPConflict"


def test_ironic_nests_a_json_document():
    fault = json.loads(body("ironic", errors.BadRequest("bad"))["error_message"])
    assert fault == {"faultcode": "Client", "faultstring": "bad", "debuginfo": None}


def test_swift_is_html():
    assert "<h1>Not Found</h1>" in body("swift", errors.NotFound())
