"""The repository's Python half, DATA_DIR/repo/python/, for hosts without internet to run
`pip install --no-index --find-links REPO/python/ stackbox`:

    stackbox-VERSION-py3-none-any.whl   built from the checkout, reproducibly
    DEPENDENCY-....whl                  every dependency, with the postgres extra's
    index.html                          a page of links to every wheel (pip's --find-links)
    stackbox.json                       {"wheel", "version", "sha256"} of the stackbox wheel

The wheels are for the running interpreter (hosts run the same Debian 12 python3).
The stackbox wheel is built from a copy of the checkout's sources with a fixed
SOURCE_DATE_EPOCH, so the same code gives the same bytes; an equal wheel leaves the folder as
it was, so hosts see nothing new.
"""
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import urllib.parse
from html import escape

from undercloud.common.files import read_if_exists, write_atomic
from undercloud.deploy.repo_tools import (RepoError, files_ending, megabytes, run, sha256,
                                          total_size)

WHEEL_EPOCH = "315532800"   # 1980-01-01, zip's first date: file times never change the bytes
EXTRAS = "postgres"
# pyproject's build-system.requires: the wheel builds without isolation, so in this venv.
BUILD_TOOLS = {"setuptools": 68, "wheel": 0}
SOURCES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in")
PACKAGE = "undercloud"
# The wheel's long description: README edits are not code and must not reinstall hosts.
README = "Stackbox: an all-in-one cloud appliance that speaks OpenStack's APIs.\n"
MANIFEST = "stackbox.json"
INDEX = "index.html"


def build(folder: str, checkout: str, say=print) -> dict:
    """Every wheel: stackbox's rebuilt, dependencies reused when present and fetched when
    not, wheels nothing needs removed."""
    return _update(folder, checkout, say, full=True)


def refresh(folder: str, checkout: str, say=print) -> dict:
    """Only the stackbox wheel; dependencies are fetched only if the new one needs more."""
    return _update(folder, checkout, say, full=False)


def complete(folder: str) -> bool:
    manifest = read_manifest(folder)
    return (manifest is not None and os.path.exists(os.path.join(folder, INDEX))
            and os.path.exists(os.path.join(folder, manifest["wheel"])))


def read_manifest(folder: str) -> dict | None:
    text = read_if_exists(os.path.join(folder, MANIFEST))
    return json.loads(text) if text else None


def summary(folder: str) -> dict:
    wheels = files_ending(folder, ".whl")
    return {"wheels": len(wheels), "bytes": total_size(folder, wheels),
            "stackbox": read_manifest(folder)}


def _update(folder: str, checkout: str, say, full: bool) -> dict:
    os.makedirs(folder, exist_ok=True)
    old = read_manifest(folder)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=folder) as scratch:
        built = build_stackbox(checkout, scratch, say)
        name, digest = os.path.basename(built), sha256(built)
        unchanged = (old is not None and (old["wheel"], old["sha256"]) == (name, digest)
                     and os.path.exists(os.path.join(folder, name)))
        if unchanged and not full:
            say(f"python: {name} unchanged (sha256 {digest[:12]})")
            return summary(folder)
        # The new wheel goes in only once the folder holds all it needs.
        wanted = resolve(folder, built)
        if wanted is None:
            _fetch_dependencies(folder, built)
            wanted = resolve(folder, built)
            if wanted is None:
                raise RepoError(f"{folder}: pip cannot install {name}[{EXTRAS}] from the "
                                f"folder alone after fetching its dependencies")
        if not unchanged:
            os.replace(built, os.path.join(folder, name))
    for stale in set(files_ending(folder, ".whl")) - wanted:
        os.unlink(os.path.join(folder, stale))
    write_index(folder)
    write_manifest(folder, name, digest)
    result = summary(folder)
    say(f"python: {result['wheels']} wheels, {megabytes(result['bytes'])}; {name} "
        f"{'unchanged' if unchanged else 'new'} (sha256 {digest[:12]})")
    return result


def build_stackbox(checkout: str, scratch: str, say=print) -> str:
    """The stackbox wheel, built in `scratch` from a copy of the checkout's sources (so no
    build/ leftovers of deleted modules get in); returns its path."""
    if not os.path.exists(os.path.join(checkout, "pyproject.toml")):
        raise RepoError(f"{checkout} is not a stackbox checkout: it has no pyproject.toml")
    _ensure_build_tools(say)
    source = os.path.join(scratch, "source")
    shutil.copytree(os.path.join(checkout, PACKAGE), os.path.join(source, PACKAGE),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in SOURCES:
        if os.path.exists(os.path.join(checkout, name)):
            shutil.copy2(os.path.join(checkout, name), source)
    with open(os.path.join(source, "README.md"), "w") as readme:
        readme.write(README)
    output = os.path.join(scratch, "wheel")
    run([sys.executable, "-m", "pip", "--isolated", "wheel", "--quiet", "--no-deps",
         "--no-build-isolation", "--check-build-dependencies", "--wheel-dir", output, source],
        f"building the stackbox wheel from {checkout}",
        env=dict(_offline_environment(), SOURCE_DATE_EPOCH=WHEEL_EPOCH))
    (wheel,) = files_ending(output, ".whl")
    return os.path.join(output, wheel)


def resolve(folder: str, wheel: str) -> set[str] | None:
    """The names of the wheels pip would install for the stackbox wheel at `wheel` with only
    the folder to draw on (as a host does), or None when something is missing there."""
    with tempfile.TemporaryDirectory(prefix=".resolve-", dir=folder) as scratch:
        report = os.path.join(scratch, "report.json")
        try:
            run([sys.executable, "-m", "pip", "--isolated", "install", "--quiet", "--dry-run",
                 "--ignore-installed", "--no-index", "--find-links", folder, "--report", report,
                 _requirement(wheel)], "resolving", env=_offline_environment())
        except RepoError:
            return None
        with open(report) as stream:
            chosen = json.load(stream)["install"]
    return {os.path.basename(urllib.parse.urlsplit(item["download_info"]["url"]).path)
            for item in chosen}


def write_index(folder: str) -> bool:
    """index.html: a link to each wheel with its sha256, as pip's --find-links reads a page;
    rewritten only when it changes. True when it did."""
    links = [f'<a href="{urllib.parse.quote(name)}#sha256={sha256(os.path.join(folder, name))}">'
             f'{escape(name)}</a><br>' for name in files_ending(folder, ".whl")]
    page = "\n".join(["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">"
                      "<title>Stackbox wheels</title></head><body>", *links,
                      "</body></html>", ""])
    path = os.path.join(folder, INDEX)
    if read_if_exists(path) == page:
        return False
    write_atomic(path, page)
    return True


def write_manifest(folder: str, wheel: str, digest: str) -> bool:
    """stackbox.json for the stackbox wheel, rewritten only when it changes. True when it
    did."""
    manifest = {"wheel": wheel, "version": wheel.split("-")[1], "sha256": digest}
    if read_manifest(folder) == manifest:
        return False
    write_atomic(os.path.join(folder, MANIFEST), json.dumps(manifest, indent=1) + "\n")
    return True


def _fetch_dependencies(folder: str, wheel: str) -> None:
    """Wheels for what the folder lacks, from the index this machine's pip uses (its own
    configuration applies: mirrors, proxies); sdists such as libvirt-python are built."""
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--find-links", folder,
         "--wheel-dir", folder, _requirement(wheel)],
        f"fetching the wheels {os.path.basename(wheel)} needs into {folder}")


def _requirement(wheel: str) -> str:
    return f"stackbox[{EXTRAS}] @ file://{urllib.parse.quote(wheel)}"


def _offline_environment() -> dict:
    """pip with none of this machine's configuration: what the folder holds is all it sees."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    return environment


def _ensure_build_tools(say) -> None:
    missing = []
    for name, major in BUILD_TOOLS.items():
        try:
            installed = int(importlib.metadata.version(name).split(".")[0])
        except importlib.metadata.PackageNotFoundError:
            installed = -1
        if installed < major:
            missing.append(f"{name}>={major}" if major else name)
    if missing:
        say(f"python: installing {', '.join(missing)} into {sys.prefix} to build the "
            f"stackbox wheel")
        run([sys.executable, "-m", "pip", "install", "--quiet", *missing],
            f"installing {', '.join(missing)} into {sys.prefix}")
        importlib.invalidate_caches()
