"""Listing images: Glance's filters, sorting, and limit/marker paging with next links."""
import datetime
import urllib.parse

import pytest

from undercloud.image.models import Image


@pytest.fixture
def catalogue(alice):
    """Five of alice's images of different formats, sizes and names, oldest first."""
    made = []
    specs = [("alpha", "raw", "bare", 1000), ("beta", "qcow2", "bare", 3000),
             ("gamma", "raw", "ovf", 2000), ("delta", "iso", "bare", None),
             ("epsilon", "raw", "bare", 4000)]
    start = datetime.datetime(2024, 1, 1)
    for index, (name, disk, container, size) in enumerate(specs):
        image = alice.create(name=name, disk_format=disk, container_format=container,
                             tags=[f"t{index}", "all"], os_distro="debian" if index % 2 else
                             "ubuntu")
        if size:
            alice.upload(image["id"], b"x" * size)
        moment = start + datetime.timedelta(days=index)
        Image.update(created_at=moment, updated_at=moment).where(Image.id == image["id"]) \
            .execute()
        made.append(image["id"])
    return made


def names(caller, query):
    response = caller.get(f"/v2/images{query}")
    assert response.status_code == 200, response.get_json()
    return [image["name"] for image in response.get_json()["images"]]


def test_default_order_is_newest_first(alice, catalogue):
    assert names(alice, "") == ["epsilon", "delta", "gamma", "beta", "alpha"]


@pytest.mark.parametrize("query, expected", [
    ("?name=beta", ["beta"]),
    ("?name=in:alpha,gamma", ["gamma", "alpha"]),
    ("?disk_format=raw", ["epsilon", "gamma", "alpha"]),
    ("?container_format=ovf", ["gamma"]),
    ("?status=queued", ["delta"]),
    ("?status=in:queued,active&disk_format=iso", ["delta"]),
    ("?size_min=2000&size_max=3000", ["gamma", "beta"]),
    ("?size=4000", ["epsilon"]),
    ("?tag=t1", ["beta"]),
    ("?tag=all&tag=t4", ["epsilon"]),
    ("?os_distro=debian", ["delta", "beta"]),
    ("?owner=p-alice&visibility=shared", ["epsilon", "delta", "gamma", "beta", "alpha"]),
    ("?created_at=gte:2024-01-03T00:00:00Z", ["epsilon", "delta", "gamma"]),
    ("?created_at=lt:2024-01-02T00:00:00Z", ["alpha"]),
    ("?created_at=eq:2024-01-02T00:00:00Z", ["beta"]),
    ("?updated_at=lte:2024-01-02T00:00:00Z", ["beta", "alpha"]),
    ("?created_at=gt:2024-01-04T00:00:00%2B01:00", ["epsilon", "delta"]),
])
def test_filters(alice, catalogue, query, expected):
    assert names(alice, query) == expected


@pytest.mark.parametrize("query, expected", [
    ("?sort_key=name&sort_dir=asc", ["alpha", "beta", "delta", "epsilon", "gamma"]),
    ("?sort=name:desc", ["gamma", "epsilon", "delta", "beta", "alpha"]),
    ("?sort=size:desc", ["epsilon", "beta", "gamma", "alpha", "delta"]),
    ("?sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc",
     ["delta", "beta", "gamma", "epsilon", "alpha"]),
])
def test_sorting(alice, catalogue, query, expected):
    assert names(alice, query) == expected


def test_paging_follows_next_links_to_the_end(alice, catalogue):
    seen, url = [], "/v2/images?limit=2&sort=name:asc"
    while url:
        body = alice.get(url).get_json()
        assert body["schema"] == "/v2/schemas/images"
        assert "marker" not in body["first"] and "limit=2" in body["first"]
        seen += [image["name"] for image in body["images"]]
        url = body.get("next")
        if url:
            assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["marker"]
    assert seen == ["alpha", "beta", "delta", "epsilon", "gamma"]


def test_paging_with_nulls_in_the_sort_key(alice, catalogue):
    seen, url = [], "/v2/images?limit=1&sort=size:asc"
    while url:
        body = alice.get(url).get_json()
        seen += [image["name"] for image in body["images"]]
        url = body.get("next")
    assert seen == ["delta", "alpha", "gamma", "beta", "epsilon"]


def test_limit_zero_and_default_page_size(alice, catalogue):
    assert names(alice, "?limit=0") == []
    assert len(names(alice, "?limit=3")) == 3


def test_hidden_images_are_listed_only_on_request(alice):
    hidden = alice.create(name="hidden", os_hidden=True)
    assert hidden["id"] not in alice.ids()
    assert hidden["id"] in alice.ids("?os_hidden=true")


@pytest.mark.parametrize("query", [
    "?limit=x", "?limit=-1", "?marker=00000000-0000-0000-0000-000000000000",
    "?marker=junk", "?sort_key=owner", "?sort_dir=sideways", "?sort=name:up",
    "?sort=name&sort_key=size", "?sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc"
    "&sort_dir=asc", "?visibility=everyone", "?member_status=maybe", "?size_min=big",
    "?size=huge", "?size=99999999999999999999999", "?size_max=-99999999999999999999",
    "?created_at=gte:yesterday", "?created_at=between:2024-01-01",
    "?name=like:foo", "?os_hidden=perhaps", "?protected=sometimes", "?changes-since=2024",
    '?name=in:"unclosed'])
def test_bad_list_arguments_answer_400(alice, query):
    response = alice.get(f"/v2/images{query}")
    assert response.status_code == 400, response.get_json()


def test_a_marker_from_another_projects_private_image_is_refused(alice, bob):
    private = bob.create(visibility="private")
    assert alice.get(f"/v2/images?marker={private['id']}").status_code == 400
