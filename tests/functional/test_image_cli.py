"""The image service as an operator uses it: the real `openstack` CLI against a real serve
(what each test arranges or reads back goes through openstacksdk in-process)."""
import copy
import os

import pytest
import yaml

from tests.fixtures.undercloud import connect, start

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(600)]

FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    """Identity and image are all these tests need; a smaller serve starts faster."""
    serve = start(tmp_path_factory.mktemp("undercloud"), ["identity", "image"])
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def fifty_mb_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "img1.qcow2"
    with open(path, "wb") as stream:
        for _ in range(FIFTY_MB // (1024 * 1024)):
            stream.write(os.urandom(1024 * 1024))
    return path


def test_create_from_a_50_mb_file_then_save_gives_the_same_bytes(openstack, fifty_mb_file,
                                                                  tmp_path):
    image = openstack("image", "create", "--file", str(fifty_mb_file), "--disk-format", "qcow2",
                      "--container-format", "bare", "img1")
    assert image["status"] == "active" and image["size"] == FIFTY_MB
    out = tmp_path / "out"
    openstack("image", "save", "img1", "--file", str(out))
    assert out.read_bytes() == fifty_mb_file.read_bytes()


def test_set_properties_and_tags(openstack, sdk):
    image = sdk.image.create_image("img2", disk_format="raw", container_format="bare")
    openstack("image", "set", "--property", "os_distro=cirros", "--property", "hw_rng=yes",
              "--tag", "blue", "--min-ram", "128", "img2")
    shown = sdk.image.get_image(image)
    assert shown.os_distro == "cirros"
    assert shown.properties["hw_rng"] == "yes"
    assert shown.tags == ["blue"] and shown.min_ram == 128
    openstack("image", "unset", "--tag", "blue", "--property", "hw_rng", "img2")
    shown = sdk.image.get_image(image)
    assert shown.tags == [] and "hw_rng" not in shown.properties


def test_deactivate_and_activate(openstack, sdk, tmp_path):
    data = tmp_path / "small.raw"
    data.write_bytes(os.urandom(4096))
    image = sdk.image.create_image("img3", filename=str(data), disk_format="raw",
                                   container_format="bare")
    openstack("image", "set", "--deactivate", "img3")
    assert sdk.image.get_image(image).status == "deactivated"
    openstack("image", "set", "--activate", "img3")
    assert sdk.image.get_image(image).status == "active"


@pytest.fixture
def demo(undercloud, sdk, tmp_path):
    """A project `demo` with a user holding the member role: the CLI's environment to act as
    them, and an SDK connection as them (as_demo)."""
    project = sdk.identity.create_project(name="demo", domain_id="default")
    user = sdk.identity.create_user(name="demo", password="demo-secret-1", domain_id="default",
                                    default_project_id=project.id)
    sdk.identity.assign_project_role_to_user(project, user, sdk.identity.find_role("member"))
    clouds = yaml.safe_load(undercloud.clouds_yaml.read_text())
    demo = copy.deepcopy(clouds["clouds"]["stackbox"])
    demo["auth"].update(username="demo", password="demo-secret-1", project_name="demo")
    clouds["clouds"]["demo"] = demo
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    with connect(path, "demo") as as_demo:
        yield {"env": {"OS_CLIENT_CONFIG_FILE": str(path), "OS_CLOUD": "demo"},
               "as_demo": as_demo}


def test_sharing_and_privacy_across_projects(openstack, sdk, demo):
    def demo_images():
        return [image.id for image in demo["as_demo"].image.images()]
    private = sdk.image.create_image("secret-img", visibility="private", disk_format="raw",
                                     container_format="bare")
    shared = sdk.image.create_image("shared-img", disk_format="raw", container_format="bare")

    assert private.id not in demo_images() and shared.id not in demo_images()
    hidden = openstack("image", "show", private.id, env=demo["env"], check=False)
    assert hidden.returncode != 0 and "No Image found" in hidden.stderr

    member = openstack("image", "add", "project", "shared-img", "demo", "-f", "json")
    assert member["status"] == "pending"
    members = openstack("image", "member", "list", "shared-img")
    assert [m["Member ID"] for m in members] == [member["member_id"]]
    accepted = openstack("--os-cloud", "demo", "image", "set", "--accept", shared.id,
                         env=demo["env"], check=False)
    assert accepted.returncode == 0, accepted.stderr
    assert shared.id in demo_images() and private.id not in demo_images()
    openstack("image", "remove", "project", "shared-img", "demo")
    assert shared.id not in demo_images()


def test_delete(openstack, sdk):
    sdk.image.create_image("gone")
    openstack("image", "delete", "gone")
    assert sdk.image.find_image("gone") is None


def test_openstacksdk_import_flow(sdk, tmp_path):
    """glance-direct through openstacksdk: stage, import, then the image is active."""
    data = tmp_path / "staged.raw"
    data.write_bytes(os.urandom(300 * 1024))
    image = sdk.image.create_image("staged", filename=str(data), disk_format="raw",
                                   container_format="bare", use_import=True, wait=True)
    image = sdk.image.wait_for_status(image, "active", wait=60)
    assert (image.status, image.size) == ("active", 300 * 1024)
