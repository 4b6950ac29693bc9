"""The package repository's pieces that need no network: the roles' package lists, the wheel
index and manifest pip and the roles read, and the debs a rebuild drops."""
import hashlib
import json
import os
import shutil

import pytest

from undercloud.common import config as configuration
from undercloud.deploy import repo, repo_debs, repo_wheels
from undercloud.deploy.repo_tools import RepoError

WHEEL = "stackbox-0.1.0-py3-none-any.whl"


def write_role(roles, name, text):
    (roles / name / "defaults").mkdir(parents=True)
    (roles / name / "defaults" / "main.yml").write_text(text)


def test_the_debian_packages_are_the_union_of_the_roles_lists(tmp_path):
    roles = tmp_path / "roles"
    write_role(roles, "common", "common_packages:\n  - python3-venv\n  - iproute2\n"
                                "common_user: stackbox\n")
    write_role(roles, "network", "network_packages: [dnsmasq-base, iptables, iproute2]\n")
    write_role(roles, "compute", "# only the role's own list counts\n"
                                 "network_packages: [not-mine]\ncompute_virt_type: qemu\n")
    write_role(roles, "bus", "")
    (roles / "units").mkdir()    # a role with no defaults
    assert repo_debs.role_packages(str(roles)) == [
        "dnsmasq-base", "iproute2", "iptables", "python3-venv"]


def test_no_roles_means_no_packages(tmp_path):
    assert repo_debs.role_packages(str(tmp_path / "roles")) == []


def test_a_package_list_that_is_not_a_list_of_names_is_refused(tmp_path):
    write_role(tmp_path, "database", "database_packages: postgresql\n")
    with pytest.raises(RepoError, match=r"database/defaults/main.yml: database_packages must "
                                        r"be a list of Debian package names, not 'postgresql'"):
        repo_debs.role_packages(str(tmp_path))


def test_the_wheel_index_links_every_wheel_with_its_hash(tmp_path):
    for name in ("pyyaml-6.0.3-cp311-cp311-linux_x86_64.whl", WHEEL):
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / ".tmp-partial.whl").write_bytes(b"half")
    (tmp_path / "stackbox.json").write_text("{}")
    assert repo_wheels.write_index(str(tmp_path)) is True
    page = (tmp_path / "index.html").read_text()
    digest = hashlib.sha256(WHEEL.encode()).hexdigest()
    assert f'<a href="{WHEEL}#sha256={digest}">{WHEEL}</a>' in page
    assert page.index("pyyaml-") < page.index("stackbox-")
    assert "partial" not in page and "stackbox.json" not in page


def test_an_unchanged_index_and_manifest_are_left_as_they_were(tmp_path):
    (tmp_path / WHEEL).write_bytes(b"wheel")
    assert repo_wheels.write_index(str(tmp_path))
    assert repo_wheels.write_manifest(str(tmp_path), WHEEL, "ab" * 32)
    before = {name: os.stat(tmp_path / name).st_mtime_ns for name in
              ("index.html", "stackbox.json")}
    assert repo_wheels.write_index(str(tmp_path)) is False
    assert repo_wheels.write_manifest(str(tmp_path), WHEEL, "ab" * 32) is False
    assert before == {name: os.stat(tmp_path / name).st_mtime_ns for name in before}
    assert json.loads((tmp_path / "stackbox.json").read_text()) == {
        "wheel": WHEEL, "version": "0.1.0", "sha256": "ab" * 32}
    assert repo_wheels.write_manifest(str(tmp_path), WHEEL, "cd" * 32) is True
    assert repo_wheels.read_manifest(str(tmp_path))["sha256"] == "cd" * 32


@pytest.mark.skipif(shutil.which("dpkg-scanpackages") is None, reason="needs dpkg-dev")
def test_a_rebuild_drops_debs_no_longer_needed(tmp_path):
    debian = tmp_path / "repo" / "debian"
    debian.mkdir(parents=True)
    (debian / "old-tool_1.0_all.deb").write_bytes(b"not needed any more")
    summary = repo_debs.build(str(debian), [], str(tmp_path), say=lambda line: None)
    assert summary == {"requested": [], "debs": 0, "bytes": 0}
    assert sorted(os.listdir(debian)) == ["Packages", "Packages.gz", "Release",
                                          "requested.json"]
    assert (debian / "Packages").read_text() == ""
    assert "SHA256:" in (debian / "Release").read_text()
    assert repo_debs.complete(str(debian))


def test_an_empty_data_dir_has_an_incomplete_repo_at_the_provisioning_address(tmp_path):
    config = configuration.load(None, environ={}, overrides={"data_dir": str(tmp_path)})
    described = repo.describe(config)
    assert described["url"] == "http://192.168.24.1:8088/repo"
    assert described["complete"] is False
    assert described["python"] == {"wheels": 0, "bytes": 0, "stackbox": None}
    assert described["debian"] == {"requested": None, "debs": 0, "bytes": 0}
