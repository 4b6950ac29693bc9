"""The image service as an operator uses it: the real `openstack` CLI against a real serve."""
import copy
import os
import subprocess

import pytest
import yaml

from tests.fixtures.undercloud import start

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(600)]

FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    """Identity and image are all these tests need; a smaller serve starts faster."""
    serve = start(tmp_path_factory.mktemp("undercloud"), ["identity", "image"])
    yield serve
    serve.stop()


@pytest.fixture
def quietly(undercloud, clients_venv):
    """Run a CLI command that prints nothing (the `openstack` fixture adds -f json to `set`)."""
    def run(*args):
        result = subprocess.run([str(clients_venv / "bin" / "openstack"), *args],
                                capture_output=True, text=True, timeout=120,
                                env=undercloud.client_env())
        assert result.returncode == 0, f"openstack {' '.join(args)} failed:\n{result.stderr}"
    return run


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


def test_set_properties_and_tags(openstack, quietly):
    openstack("image", "create", "--disk-format", "raw", "--container-format", "bare", "img2")
    quietly("image", "set", "--property", "os_distro=cirros", "--property", "hw_rng=yes",
              "--tag", "blue", "--min-ram", "128", "img2")
    shown = openstack("image", "show", "img2")
    assert shown["properties"]["os_distro"] == "cirros"
    assert shown["properties"]["hw_rng"] == "yes"
    assert shown["tags"] == ["blue"] and shown["min_ram"] == 128
    quietly("image", "unset", "--tag", "blue", "--property", "hw_rng", "img2")
    shown = openstack("image", "show", "img2")
    assert shown["tags"] == [] and "hw_rng" not in shown["properties"]


def test_deactivate_and_activate(openstack, quietly, tmp_path):
    data = tmp_path / "small.raw"
    data.write_bytes(os.urandom(4096))
    openstack("image", "create", "--file", str(data), "--disk-format", "raw",
              "--container-format", "bare", "img3")
    quietly("image", "set", "--deactivate", "img3")
    assert openstack("image", "show", "img3")["status"] == "deactivated"
    quietly("image", "set", "--activate", "img3")
    assert openstack("image", "show", "img3")["status"] == "active"


def _second_cloud(undercloud, openstack, quietly, tmp_path) -> dict:
    """A project `demo` with a user holding the member role, as a clouds.yaml cloud."""
    openstack("project", "create", "demo")
    openstack("user", "create", "--project", "demo", "--password", "demo-secret-1", "demo")
    quietly("role", "add", "--project", "demo", "--user", "demo", "member")
    clouds = yaml.safe_load(undercloud.clouds_yaml.read_text())
    demo = copy.deepcopy(clouds["clouds"]["stackbox"])
    demo["auth"].update(username="demo", password="demo-secret-1", project_name="demo")
    clouds["clouds"]["demo"] = demo
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    return {"OS_CLIENT_CONFIG_FILE": str(path), "OS_CLOUD": "demo"}


def test_sharing_and_privacy_across_projects(undercloud, openstack, quietly, tmp_path):
    demo = _second_cloud(undercloud, openstack, quietly, tmp_path)
    private = openstack("image", "create", "--private", "--disk-format", "raw",
                        "--container-format", "bare", "secret-img")
    shared = openstack("image", "create", "--disk-format", "raw", "--container-format",
                       "bare", "shared-img")

    demo_images = [i["ID"] for i in openstack("image", "list", env=demo)]
    assert private["id"] not in demo_images and shared["id"] not in demo_images
    hidden = openstack("image", "show", private["id"], env=demo, check=False)
    assert hidden.returncode != 0 and "No Image found" in hidden.stderr

    member = openstack("image", "add", "project", "shared-img", "demo", "-f", "json")
    assert member["status"] == "pending"
    members = openstack("image", "member", "list", "shared-img")
    assert [m["Member ID"] for m in members] == [member["member_id"]]
    accepted = openstack("--os-cloud", "demo", "image", "set", "--accept", shared["id"],
                         env=demo, check=False)
    assert accepted.returncode == 0, accepted.stderr
    demo_images = [i["ID"] for i in openstack("image", "list", env=demo)]
    assert shared["id"] in demo_images and private["id"] not in demo_images
    quietly("image", "remove", "project", "shared-img", "demo")
    assert shared["id"] not in [i["ID"] for i in openstack("image", "list", env=demo)]


def test_delete(openstack, quietly):
    openstack("image", "create", "gone")
    quietly("image", "delete", "gone")
    result = openstack("image", "show", "gone", check=False)
    assert result.returncode != 0


def test_openstacksdk_import_flow(undercloud, clients_venv, tmp_path):
    """glance-direct through openstacksdk: stage, import, then the image is active."""
    data = tmp_path / "staged.raw"
    data.write_bytes(os.urandom(300 * 1024))
    script = (
        "import openstack, sys\n"
        "conn = openstack.connect(cloud='stackbox')\n"
        f"image = conn.image.create_image('staged', filename={str(data)!r}, "
        "disk_format='raw', container_format='bare', use_import=True, wait=True)\n"
        "image = conn.image.wait_for_status(image, 'active', wait=60)\n"
        "print(image.status, image.size)\n")
    result = subprocess.run([str(clients_venv / "bin" / "python"), "-c", script],
                            capture_output=True, text=True, timeout=120,
                            env=undercloud.client_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["active", str(300 * 1024)]
