"""/images before 2.36: Nova's proxy of the image service, in Nova's image view."""
from urllib.parse import parse_qsl

from tests.unit.compute.conftest import IMAGE
from undercloud.compute import glance


def _fake_glance(monkeypatch, images):
    def update(config, token, image_id, changes):
        image = images[image_id]
        for change in changes:
            key = change["path"].lstrip("/")
            if change["op"] == "remove":
                image.pop(key, None)
            else:
                image[key] = change["value"]
        return image

    def remove(config, token, image_id):
        if image_id not in images:
            raise glance.ApiError(404, "no such image")
        del images[image_id]

    def listing(config, token, query=""):
        wanted = dict(parse_qsl(query))
        return {"images": [i for i in images.values()
                           if wanted.get("status", i["status"]) == i["status"]]}

    monkeypatch.setattr(glance, "list_images", listing)
    monkeypatch.setattr(glance, "update_image", update)
    monkeypatch.setattr(glance, "remove_image", remove)


def test_images_are_shown_in_novas_view_until_2_36(alice, images, monkeypatch):
    _fake_glance(monkeypatch, images)
    old = alice.at("2.35")
    listed = old.get("/v2.1/images/detail").get_json()["images"]
    assert listed[0]["id"] == IMAGE and listed[0]["status"] == "ACTIVE"
    assert listed[0]["progress"] == 100 and listed[0]["metadata"] == {"hw_arch": "x86_64"}
    assert old.get("/v2.1/images?status=SAVING").get_json()["images"] == []
    assert old.get(f"/v2.1/images/{IMAGE}").get_json()["image"]["minRam"] == 0
    assert old.get("/v2.1/images/nope").status_code == 404
    assert alice.get("/v2.1/images").status_code == 404


def test_image_metadata_and_delete(alice, images, monkeypatch):
    _fake_glance(monkeypatch, images)
    old = alice.at("2.1")
    base = f"/v2.1/images/{IMAGE}/metadata"
    assert old.post(base, json={"metadata": {"os_distro": "tiny"}}).get_json()["metadata"] == {
        "hw_arch": "x86_64", "os_distro": "tiny"}
    assert old.put(base, json={"metadata": {"a": "1"}}).get_json()["metadata"] == {"a": "1"}
    assert old.put(f"{base}/b", json={"meta": {"b": "2"}}).status_code == 200
    assert old.get(f"{base}/b").get_json() == {"meta": {"b": "2"}}
    assert old.delete(f"{base}/b").status_code == 204
    assert old.delete(f"/v2.1/images/{IMAGE}").status_code == 204
    assert old.delete(f"/v2.1/images/{IMAGE}").status_code == 404
