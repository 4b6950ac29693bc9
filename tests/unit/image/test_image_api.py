"""Images as a Glance v2 client sees them: create, show, update (JSON-patch), delete, schemas."""
import pytest

from tests.fixtures.fake_tokens import READER

V20 = "application/openstack-images-v2.0-json-patch"


def test_version_discovery_lists_v2_with_current_first(app):
    client = app.test_client()
    root = client.get("/")
    assert root.status_code == 300
    ids = [v["id"] for v in root.get_json()["versions"]]
    assert ids[0] == "v2.16" and "v2.0" in ids and "v2.12" in ids
    assert root.get_json()["versions"][0]["status"] == "CURRENT"
    assert client.get("/versions").status_code == 200


def test_create_shows_a_queued_image_with_glance_defaults(alice):
    response = alice.post("/v2/images", json={"name": "cirros", "disk_format": "qcow2",
                                              "container_format": "bare"})
    assert response.status_code == 201
    image = response.get_json()
    assert response.headers["Location"].endswith(f"/v2/images/{image['id']}")
    assert response.headers["OpenStack-image-import-methods"] == "glance-direct"
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["owner"] == "p-alice" and image["protected"] is False
    assert image["size"] is None and image["checksum"] is None
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["schema"] == "/v2/schemas/image"
    assert len(image["id"]) == 36 and image["id"].count("-") == 4
    assert image["created_at"].endswith("Z")


def test_create_keeps_a_chosen_id_properties_and_tags(alice):
    image = alice.create(id="00000000-1111-2222-3333-444455556666", name="x",
                         os_distro="cirros", ramdisk_id="00000000-1111-2222-3333-444455556666",
                         tags=["a", "b", "a"])
    assert image["id"] == "00000000-1111-2222-3333-444455556666"
    assert image["os_distro"] == "cirros" and image["tags"] == ["a", "b"]
    again = alice.post("/v2/images", json={"id": image["id"]})
    assert again.status_code == 409


@pytest.mark.parametrize("body, code", [
    ({"disk_format": "wrong"}, 400),
    ({"container_format": "wrong", "disk_format": "vhd"}, 400),
    ({"visibility": "everyone"}, 400),
    ({"min_ram": "lots"}, 400),
    ({"min_disk": -1}, 400),
    ({"min_ram": 2 ** 40}, 400),
    ({"id": "not-a-uuid"}, 400),
    ({"name": "x" * 256}, 400),
    ({"os_distro": 7}, 400),
    ({"x" * 256: "long key"}, 400),
    ({"status": "active"}, 403),
    ({"checksum": "0" * 32}, 403),
    ({"self": "/v2/images/x"}, 403),
    ({"os_glance_foo": "bar"}, 403),
    ({"deleted": "true"}, 403),
    ({"location": "file:///etc/passwd"}, 403),
])
def test_create_refuses_what_glance_refuses(alice, body, code):
    response = alice.post("/v2/images", json=body)
    assert response.status_code == code, response.get_json()
    assert response.get_json()["code"].startswith(str(code))


def test_malformed_bodies_answer_400(alice):
    assert alice.post("/v2/images", data="{not json",
                      headers={"Content-Type": "application/json"}).status_code == 400
    assert alice.post("/v2/images", json=["a", "list"]).status_code == 400


@pytest.mark.parametrize("path", ["/v2/images/abc%00def", "/v2/images?name=a%00b",
                                  "/v2/images?os_distro=a%00b", "/v2/images?marker=a%00b"])
def test_nul_characters_in_paths_and_queries_answer_400(alice, path):
    assert alice.get(path).status_code == 400


def test_nul_characters_in_bodies_and_names_answer_400(alice):
    assert alice.post("/v2/images", json={"name": "a\u0000b"}).status_code == 400
    image = alice.create()
    assert alice.put(f"/v2/images/{image['id']}/tags/a%00b").status_code == 400
    assert alice.post(f"/v2/images/{image['id']}/members",
                      json={"member": "a\u0000b"}).status_code == 400


def test_public_is_for_admins_but_community_for_owners(alice, admin):
    refused = alice.post("/v2/images", json={"visibility": "public"})
    assert refused.status_code == 403
    assert admin.create(visibility="public")["visibility"] == "public"
    assert alice.create(visibility="community")["visibility"] == "community"


def test_only_admin_creates_for_another_owner(alice, admin):
    refused = alice.post("/v2/images", json={"owner": "p-bob"})
    assert refused.status_code == 403
    assert "owned by 'p-bob'" in refused.get_json()["message"]
    assert admin.create(owner="p-bob")["owner"] == "p-bob"


def test_reader_can_look_but_not_create(alice, as_user):
    image = alice.create(name="mine")
    reader = as_user(READER)
    assert reader.show(image["id"]).status_code == 200
    assert reader.post("/v2/images", json={"name": "x"}).status_code == 403
    assert reader.delete(f"/v2/images/{image['id']}").status_code == 403


def test_unknown_and_empty_ids_answer_404(alice):
    missing = "6e1e2d0c-2a6c-4f1e-9a4e-000000000000"
    assert alice.show(missing).status_code == 404
    assert alice.delete(f"/v2/images/{missing}").status_code == 404
    assert alice.get("/v2/images/").status_code == 404
    assert alice.delete("/v2/images/").status_code == 404
    assert alice.patch(f"/v2/images/{missing}", []).status_code == 404
    assert alice.put(f"/v2/images/{missing}/tags/t").status_code == 404
    assert alice.get(f"/v2/images/{missing}/file").status_code == 404


def test_patch_replace_add_remove_in_both_media_types(alice):
    image = alice.create(name="old")
    path = f"/v2/images/{image['id']}"
    response = alice.patch(path, [{"op": "replace", "path": "/name", "value": "new"},
                                  {"op": "add", "path": "/os_distro", "value": "debian"},
                                  {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
                                  {"op": "replace", "path": "/tags", "value": ["x", "y"]},
                                  {"op": "replace", "path": "/min_ram", "value": 512}])
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated["name"] == "new" and updated["os_distro"] == "debian"
    assert updated["tags"] == ["x", "y"] and updated["min_ram"] == 512
    response = alice.patch(path, [{"remove": "/hw_disk_bus"}, {"replace": "/name",
                                                               "value": "v20"}], media=V20)
    assert response.status_code == 200, response.get_json()
    shown = alice.show(image["id"]).get_json()
    assert "hw_disk_bus" not in shown and shown["name"] == "v20"
    assert shown["updated_at"] >= image["updated_at"]


@pytest.mark.parametrize("changes, code", [
    ([{"op": "move", "path": "/name", "value": "x"}], 400),
    ([{"path": "/name", "value": "x"}], 400),
    ([{"op": "replace", "value": "x"}], 400),
    ([{"op": "replace", "path": "name", "value": "x"}], 400),
    ([{"op": "replace", "path": "/tags/0", "value": "x"}], 400),
    ([{"op": "replace", "path": "/name"}], 400),
    ([{"op": "replace", "path": "/disk_format", "value": "floppy"}], 400),
    ([{"op": "replace", "path": "/visibility", "value": "everyone"}], 400),
    ([{"op": "add", "path": "/os_distro", "value": 5}], 400),
    (["not an object"], 400),
    ({"op": "replace"}, 400),
    ([{"op": "replace", "path": "/status", "value": "active"}], 403),
    ([{"op": "replace", "path": "/id", "value": "x"}], 403),
    ([{"op": "add", "path": "/os_glance_foo", "value": "bar"}], 403),
    ([{"op": "add", "path": "/locations/-", "value": {"url": "x", "metadata": {}}}], 403),
    ([{"op": "remove", "path": "/name"}], 403),
    ([{"op": "replace", "path": "/visibility", "value": "public"}], 403),
    ([{"op": "replace", "path": "/owner", "value": "p-bob"}], 403),
    ([{"op": "replace", "path": "/nothing_here", "value": "x"}], 409),
    ([{"op": "remove", "path": "/nothing_here"}], 409),
])
def test_bad_patches_answer_glance_codes(alice, changes, code):
    image = alice.create(name="target")
    response = alice.patch(f"/v2/images/{image['id']}", changes)
    assert response.status_code == code, response.get_json()
    assert alice.show(image["id"]).get_json()["name"] == "target"


def test_patch_needs_a_json_patch_media_type(alice):
    image = alice.create()
    response = alice.patch(f"/v2/images/{image['id']}", [], media="application/json")
    assert response.status_code == 415
    assert "openstack-images-v2.1-json-patch" in response.headers["Accept-Patch"]


def test_v20_patch_add_of_an_existing_property_conflicts(alice):
    image = alice.create(os_distro="a")
    response = alice.patch(f"/v2/images/{image['id']}", [{"add": "/os_distro", "value": "b"}],
                           media=V20)
    assert response.status_code == 409


def test_formats_change_only_while_queued(alice):
    image = alice.create(disk_format="raw", container_format="bare")
    assert alice.upload(image["id"], b"data").status_code == 204
    response = alice.patch(f"/v2/images/{image['id']}",
                           [{"op": "replace", "path": "/disk_format", "value": "qcow2"}])
    assert response.status_code == 403


def test_tags_put_is_idempotent_and_delete_of_missing_tag_is_404(alice):
    image = alice.create()
    path = f"/v2/images/{image['id']}/tags"
    assert alice.put(f"{path}/blue").status_code == 204
    assert alice.put(f"{path}/blue").status_code == 204
    assert alice.show(image["id"]).get_json()["tags"] == ["blue"]
    assert alice.delete(f"{path}/blue").status_code == 204
    assert alice.delete(f"{path}/blue").status_code == 404
    assert alice.put(f"{path}/{'t' * 256}").status_code == 400


@pytest.mark.parametrize("image_config", [{"image": {"image_tag_quota": 2,
                                                     "image_property_quota": 1,
                                                     "image_count_total": 2}}])
def test_limits_answer_413_with_a_clear_message(alice):
    image = alice.create()
    path = f"/v2/images/{image['id']}"
    assert alice.put(f"{path}/tags/a").status_code == 204
    assert alice.put(f"{path}/tags/b").status_code == 204
    assert alice.put(f"{path}/tags/c").status_code == 413
    assert alice.patch(path, [{"op": "add", "path": "/p1", "value": "1"}]).status_code == 200
    too_many = alice.patch(path, [{"op": "add", "path": "/p2", "value": "2"}])
    assert too_many.status_code == 413
    alice.create()
    over = alice.post("/v2/images", json={})
    assert over.status_code == 413
    assert "image_count_total" in over.get_json()["message"]


def test_protected_images_refuse_deletion(alice):
    image = alice.create(protected=True)
    response = alice.delete(f"/v2/images/{image['id']}")
    assert response.status_code == 403
    assert "protected" in response.get_json()["message"]
    alice.patch(f"/v2/images/{image['id']}", [{"op": "replace", "path": "/protected",
                                               "value": False}])
    assert alice.delete(f"/v2/images/{image['id']}").status_code == 204
    assert alice.show(image["id"]).status_code == 404
    assert alice.delete(f"/v2/images/{image['id']}").status_code == 404


def test_schemas_follow_glance_structure(app):
    client = app.test_client()
    headers = {"X-Auth-Token": "alice:p-alice:member,reader"}
    image = client.get("/v2/schemas/image", headers=headers).get_json()
    assert image["name"] == "image"
    assert image["additionalProperties"] == {"type": "string"}
    assert [link["rel"] for link in image["links"]] == ["self", "enclosure", "describedby"]
    assert image["properties"]["visibility"]["enum"] == ["community", "public", "private",
                                                         "shared"]
    assert "qcow2" in image["properties"]["disk_format"]["enum"]
    assert image["properties"]["os_distro"]["is_base"] is False
    images = client.get("/v2/schemas/images", headers=headers).get_json()
    assert images["name"] == "images"
    assert images["properties"]["images"]["items"]["name"] == "image"
    assert client.get("/v2/schemas/member", headers=headers).get_json()["name"] == "member"
    members = client.get("/v2/schemas/members", headers=headers).get_json()
    assert members["properties"]["members"]["items"]["name"] == "member"


def test_info_import_and_usage(alice):
    methods = alice.get("/v2/info/import").get_json()["import-methods"]["value"]
    assert methods == ["glance-direct"]
    alice.create()
    usage = alice.get("/v2/info/usage").get_json()["usage"]
    assert usage["image_count_total"]["usage"] == 1
    assert alice.get("/v2/info/stores").status_code == 404


def test_requests_without_a_token_answer_401(app):
    assert app.test_client().get("/v2/images").status_code == 401
