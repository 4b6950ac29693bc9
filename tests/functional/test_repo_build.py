"""`stackbox repo build` for real (PyPI and deb.debian.org) into a temporary DATA_DIR with
one Debian package, from a snapshot of the checkout. A host with nothing but the repo: pip
resolves stackbox from the folder and over the provisioning HTTP server, and apt on the node
image finds iptables with all it needs. A deploy's ensure leaves an unchanged repo alone and
brings in a changed checkout's wheel."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.baremetal_lab import stackbox
from tests.fixtures.ports import free_port
from undercloud.baremetal.drivers.http import HttpServer
from undercloud.common import config as configuration
from undercloud.deploy import repo, repo_debs, repo_wheels

pytestmark = [pytest.mark.functional, pytest.mark.timeout(1800),
              pytest.mark.skipif(os.geteuid() != 0,
                                 reason="the node image and apt's downloads need root")]

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["iptables"]
# A host's pip: no configuration of this machine's, only the repo.
HOST_ENV = {**{name: value for name, value in os.environ.items()
               if not name.startswith("PIP_")}, "PIP_CONFIG_FILE": os.devnull}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """The checkout as it is now, so edits in the shared tree do not change the wheel."""
    folder = tmp_path_factory.mktemp("checkout")
    shutil.copytree(REPO / "undercloud", folder / "undercloud",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "images" / "overcloud-node", folder / "images" / "overcloud-node")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, folder)
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, checkout):
    folder = tmp_path_factory.mktemp("data")
    result = stackbox("repo", "build", "--data-dir", str(folder), "--checkout", str(checkout),
                      "--packages", ",".join(PACKAGES), timeout=1500)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "python: " in result.stdout and "debian: " in result.stdout
    return folder


@pytest.fixture(scope="module")
def config(data_dir):
    return configuration.load(None, environ={}, overrides={"data_dir": str(data_dir)})


@pytest.fixture(scope="module")
def host_pip(tmp_path_factory):
    """pip in a bare venv, as on a host before the common role installs stackbox."""
    venv = tmp_path_factory.mktemp("host") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)

    def dry_run(find_links: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "pip"), "--isolated", "install", "--dry-run",
                               "--no-index", "--find-links", find_links, "stackbox[postgres]"],
                              capture_output=True, text=True, timeout=600, env=HOST_ENV)
    return dry_run


def stat(path: Path) -> int:
    return path.stat().st_mtime_ns


def test_show_names_the_wheel_and_counts_the_debs(data_dir):
    result = stackbox("repo", "show", "--data-dir", str(data_dir))
    manifest = repo_wheels.read_manifest(str(data_dir / "repo" / "python"))
    assert result.returncode == 0, result.stderr
    assert f"Stackbox: {manifest['wheel']} sha256 {manifest['sha256']}" in result.stdout
    assert "URL:      http://192.168.24.1:8088/repo/" in result.stdout
    assert "for 1 requested packages: iptables" in result.stdout
    assert "incomplete" not in result.stdout


def test_pip_installs_stackbox_from_the_folder_alone(data_dir, host_pip):
    result = host_pip(f"file://{data_dir}/repo/python/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Would install" in result.stdout
    assert "stackbox-0.1.0" in result.stdout and "psycopg2-binary" in result.stdout


def test_pip_reads_the_repo_over_the_provisioning_http_server(data_dir, host_pip, tmp_path):
    server = HttpServer("127.0.0.1", free_port(), str(tmp_path), {}, "http://127.0.0.1:1",
                        4096, repo_root=str(data_dir / "repo"))
    server.start()
    try:
        result = host_pip(f"http://127.0.0.1:{server.port}/repo/python/")
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stackbox-0.1.0" in result.stdout
    requests = {(record["path"], record["status"]) for record in server.records}
    assert ("/repo/python/", 200) in requests
    manifest = repo_wheels.read_manifest(str(data_dir / "repo" / "python"))
    assert (f"/repo/python/{manifest['wheel']}", 200) in requests


def test_apt_on_the_node_image_finds_the_packages_and_all_they_need(data_dir, checkout,
                                                                    tmp_path):
    debian = data_dir / "repo" / "debian"
    assert "Package: iptables\n" in (debian / "Packages").read_text()
    rootfs = repo_debs.node_rootfs(str(checkout))
    (tmp_path / "lists" / "partial").mkdir(parents=True)
    (tmp_path / "parts").mkdir()
    (tmp_path / "sources.list").write_text(f"deb [trusted=yes] file:{debian} ./\n")
    options = [f"-o{name}={value}" for name, value in {
        "Dir::State::status": f"{rootfs}/var/lib/dpkg/status",
        "Dir::State::Lists": tmp_path / "lists", "Dir::Cache::archives": tmp_path,
        "Dir::Cache::pkgcache": "", "Dir::Cache::srcpkgcache": "",
        "Dir::Etc::SourceList": tmp_path / "sources.list",
        "Dir::Etc::SourceParts": tmp_path / "parts",
        "Dir::Etc::PreferencesParts": tmp_path / "parts", "Debug::NoLocking": "true",
        "APT::Sandbox::User": "root"}.items()]
    update = subprocess.run(["apt-get", *options, "update"], capture_output=True, text=True,
                            timeout=300)
    assert update.returncode == 0, update.stdout + update.stderr
    install = subprocess.run(["apt-get", *options, "install", "--simulate",
                              "--no-install-recommends", *PACKAGES],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    assert "Inst iptables " in install.stdout


def test_the_stackbox_wheel_is_the_same_bytes_from_the_same_checkout(checkout, tmp_path):
    first = repo_wheels.build_stackbox(str(checkout), str(tmp_path / "first"))
    second = repo_wheels.build_stackbox(str(checkout), str(tmp_path / "second"))
    assert Path(first).read_bytes() == Path(second).read_bytes()


def test_ensure_leaves_an_unchanged_repo_alone(config, data_dir, checkout):
    files = [data_dir / "repo" / "python" / name for name in ("stackbox.json", "index.html")]
    files += [data_dir / "repo" / "debian" / name for name in repo_debs.INDEX_FILES]
    manifest = repo_wheels.read_manifest(str(data_dir / "repo" / "python"))
    files.append(data_dir / "repo" / "python" / manifest["wheel"])
    before = {path: stat(path) for path in files}
    said = []
    repo.ensure(config, str(checkout), PACKAGES, say=said.append)
    assert said == [f"python: {manifest['wheel']} unchanged (sha256 {manifest['sha256'][:12]})"]
    assert before == {path: stat(path) for path in files}


def test_ensure_brings_in_a_changed_checkouts_wheel(config, data_dir, checkout):
    python = data_dir / "repo" / "python"
    before = repo_wheels.read_manifest(str(python))
    with open(checkout / "undercloud" / "deploy" / "repo.py", "a") as source:
        source.write("# a change\n")
    repo.ensure(config, str(checkout), PACKAGES, say=lambda line: None)
    after = repo_wheels.read_manifest(str(python))
    assert after["wheel"] == before["wheel"] and after["sha256"] != before["sha256"]
    assert sorted(path.name for path in python.glob("stackbox-*.whl")) == [after["wheel"]]
    assert repo_wheels.resolve(str(python), str(python / after["wheel"])) is not None


def test_a_rebuild_drops_wheels_nothing_needs(data_dir, checkout):
    python = data_dir / "repo" / "python"
    (python / "oldlib-1.0-py3-none-any.whl").write_bytes(b"PK")
    result = stackbox("repo", "build", "--data-dir", str(data_dir), "--checkout",
                      str(checkout), "--packages", ",".join(PACKAGES), timeout=1500)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (python / "oldlib-1.0-py3-none-any.whl").exists()
    assert "oldlib" not in (python / "index.html").read_text()
