"""Who sees whose images: visibility, and sharing with members who accept or reject."""
import pytest


def members_path(image):
    return f"/v2/images/{image['id']}/members"


def test_another_project_never_sees_or_downloads_a_private_image(alice, bob):
    image = alice.create(visibility="private", disk_format="raw", container_format="bare")
    alice.upload(image["id"], b"secret")
    assert bob.show(image["id"]).status_code == 404
    assert bob.get(f"/v2/images/{image['id']}/file").status_code == 404
    assert bob.patch(f"/v2/images/{image['id']}", []).status_code == 404
    assert bob.delete(f"/v2/images/{image['id']}").status_code == 404
    assert image["id"] not in bob.ids()
    assert image["id"] not in bob.ids("?visibility=private")
    assert image["id"] not in bob.ids("?visibility=all")


def test_admin_sees_every_project_image(alice, admin):
    image = alice.create(visibility="private")
    assert admin.show(image["id"]).status_code == 200
    assert image["id"] in admin.ids()


def test_public_images_are_listed_for_everyone_and_changed_by_no_one_else(admin, bob):
    image = admin.create(visibility="public", name="base")
    assert image["id"] in bob.ids()
    assert bob.patch(f"/v2/images/{image['id']}",
                     [{"op": "replace", "path": "/name", "value": "mine"}]).status_code == 403
    assert bob.delete(f"/v2/images/{image['id']}").status_code == 403


def test_community_images_are_listed_only_when_asked_for(alice, bob):
    image = alice.create(visibility="community")
    assert image["id"] not in bob.ids()
    assert image["id"] in bob.ids("?visibility=community")
    assert bob.show(image["id"]).status_code == 200
    assert image["id"] in alice.ids()


def test_share_accept_reject_and_remove(alice, bob):
    image = alice.create(name="shared-one")
    added = alice.post(members_path(image), json={"member": "p-bob"})
    assert added.status_code == 200
    member = added.get_json()
    assert member["member_id"] == "p-bob" and member["status"] == "pending"
    assert member["image_id"] == image["id"] and member["schema"] == "/v2/schemas/member"
    # Pending: bob can look the image up, but it is not in his list until he accepts.
    assert bob.show(image["id"]).status_code == 200
    assert image["id"] not in bob.ids()
    assert image["id"] in bob.ids("?visibility=shared&member_status=pending")
    accepted = bob.put(f"{members_path(image)}/p-bob", json={"status": "accepted"})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert image["id"] in bob.ids()
    assert bob.put(f"{members_path(image)}/p-bob",
                   json={"status": "rejected"}).status_code == 200
    assert image["id"] not in bob.ids()
    listed = alice.get(members_path(image)).get_json()
    assert [m["member_id"] for m in listed["members"]] == ["p-bob"]
    assert listed["schema"] == "/v2/schemas/members"
    assert alice.get(f"{members_path(image)}/p-bob").get_json()["status"] == "rejected"
    assert alice.delete(f"{members_path(image)}/p-bob").status_code == 204
    assert bob.show(image["id"]).status_code == 404


def test_the_owner_cannot_accept_for_the_member_and_members_cannot_remove(alice, bob):
    image = alice.create()
    alice.post(members_path(image), json={"member": "p-bob"})
    assert alice.put(f"{members_path(image)}/p-bob",
                     json={"status": "accepted"}).status_code == 403
    assert bob.delete(f"{members_path(image)}/p-bob").status_code == 403
    assert bob.post(members_path(image), json={"member": "p-carol"}).status_code == 403


def test_a_member_sees_only_its_own_membership(alice, bob, as_user):
    image = alice.create()
    alice.post(members_path(image), json={"member": "p-bob"})
    alice.post(members_path(image), json={"member": "p-carol"})
    listed = bob.get(members_path(image)).get_json()["members"]
    assert [m["member_id"] for m in listed] == ["p-bob"]
    assert bob.get(f"{members_path(image)}/p-carol").status_code == 404
    assert len(alice.get(members_path(image)).get_json()["members"]) == 2


@pytest.mark.parametrize("body, code", [({"member": ""}, 400), ({}, 400), (["p-bob"], 400),
                                        ({"member": "p-bob"}, 409)])
def test_bad_member_requests(alice, body, code):
    image = alice.create()
    alice.post(members_path(image), json={"member": "p-bob"})
    assert alice.post(members_path(image), json=body).status_code == code


def test_member_status_must_be_known(alice, bob):
    image = alice.create()
    alice.post(members_path(image), json={"member": "p-bob"})
    response = bob.put(f"{members_path(image)}/p-bob", json={"status": "notavalidstatus"})
    assert response.status_code == 400
    assert bob.put(f"{members_path(image)}/p-bob", json={}).status_code == 400
    assert alice.get(f"{members_path(image)}/p-nobody").status_code == 404


def test_only_shared_images_have_members(alice):
    image = alice.create(visibility="private")
    assert alice.post(members_path(image), json={"member": "p-bob"}).status_code == 403
    assert alice.get(members_path(image)).status_code == 403


@pytest.mark.parametrize("image_config", [{"image": {"image_member_quota": 1}}])
def test_member_quota(alice):
    image = alice.create()
    assert alice.post(members_path(image), json={"member": "p-bob"}).status_code == 200
    assert alice.post(members_path(image), json={"member": "p-carol"}).status_code == 413


def test_making_a_shared_image_private_hides_it_from_members(alice, bob):
    image = alice.create()
    alice.post(members_path(image), json={"member": "p-bob"})
    bob.put(f"{members_path(image)}/p-bob", json={"status": "accepted"})
    alice.patch(f"/v2/images/{image['id']}",
                [{"op": "replace", "path": "/visibility", "value": "private"}])
    assert bob.show(image["id"]).status_code == 404
