"""The repository's Debian half, DATA_DIR/repo/debian/: a flat apt repository
(`deb [trusted=yes] REPO/debian ./`) with the roles' packages and whatever they need that the
overcloud node image lacks.

    *.deb                 the packages
    Packages, Packages.gz, Release   their index (dpkg-scanpackages)
    requested.json        {"packages": [...]}: what was asked for, so a deploy can tell
                          when the roles' lists changed

apt resolves the packages against the node image's own dpkg status
(images/overcloud-node/build's rootfs, built when missing), so `install --download-only`
fetches exactly what a freshly installed host lacks. apt runs here with every path pointed at
DATA_DIR/repo/.apt/: the rootfs is only read (the lab copies it for its hosts). Debs already
in the repo are handed to apt and reused.
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import sys
import time
from email.utils import formatdate

import yaml

from undercloud.common.files import read_if_exists, write_atomic
from undercloud.deploy.repo_tools import RepoError, files_ending, megabytes, run, total_size

MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
SUITE = "bookworm"
NODE_IMAGE = os.path.join(os.path.expanduser("~/.cache/stackbox"), "overcloud-node")
REQUESTED = "requested.json"
INDEX_FILES = ("Packages", "Packages.gz", "Release")
# apt-get --print-uris: 'URL' FILE SIZE HASH
URI_LINE = re.compile(r"^'([^']+)' (\S+\.deb) (\d+)(?: \S*)?$")  # security mirror lines carry no hash


def role_packages(roles_dir: str) -> list[str]:
    """The union of every role's ROLE_packages (roles/ROLE/defaults/main.yml), sorted."""
    packages = set()
    for role in sorted(os.listdir(roles_dir)) if os.path.isdir(roles_dir) else []:
        path = os.path.join(roles_dir, role, "defaults", "main.yml")
        text = read_if_exists(path)
        if text is None:
            continue
        try:
            defaults = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise RepoError(f"{path} is not YAML: {exc}") from None
        listed = defaults.get(f"{role}_packages", []) if isinstance(defaults, dict) else []
        if not isinstance(listed, list) or not all(isinstance(name, str) and name
                                                   for name in listed):
            raise RepoError(f"{path}: {role}_packages must be a list of Debian package "
                            f"names, not {listed!r}")
        packages.update(listed)
    return sorted(packages)


def requested(folder: str) -> list[str] | None:
    """The packages the repo was last built for, or None before a build finished."""
    text = read_if_exists(os.path.join(folder, REQUESTED))
    return json.loads(text)["packages"] if text else None


def complete(folder: str) -> bool:
    return requested(folder) is not None and all(
        os.path.exists(os.path.join(folder, name)) for name in INDEX_FILES)


def summary(folder: str) -> dict:
    debs = files_ending(folder, ".deb")
    return {"requested": requested(folder), "debs": len(debs),
            "bytes": total_size(folder, debs)}


def build(folder: str, packages: list[str], checkout: str, say=print) -> dict:
    """Download `packages` and what they need beyond the node image into the folder, index
    them, and remove debs no longer needed."""
    os.makedirs(folder, exist_ok=True)
    apt = Apt(os.path.join(os.path.dirname(folder), ".apt"),
              node_rootfs(checkout, say) if packages else None)
    try:
        needed = apt.download(packages, reuse=folder) if packages else []
        # Indexed where apt left exactly the new set; the index names them "./FILE" there too.
        index = _scan(apt.archives)
        for name in needed:
            os.replace(os.path.join(apt.archives, name), os.path.join(folder, name))
    finally:
        shutil.rmtree(apt.archives, ignore_errors=True)
    write_index(folder, index)
    for stale in set(files_ending(folder, ".deb")) - set(needed):
        os.unlink(os.path.join(folder, stale))
    write_atomic(os.path.join(folder, REQUESTED),
                 json.dumps({"packages": sorted(packages)}, indent=1) + "\n")
    result = summary(folder)
    say(f"debian: {result['debs']} debs, {megabytes(result['bytes'])} for "
        f"{len(packages)} requested packages")
    return result


def node_rootfs(checkout: str, say=print) -> str:
    """The overcloud node image's root file system, built once (needs root and debootstrap)."""
    rootfs = os.path.join(NODE_IMAGE, "rootfs")
    if not os.path.exists(rootfs + ".done"):
        say(f"debian: building the overcloud node image in {NODE_IMAGE} (once, ~1 min)")
        run([sys.executable, os.path.join(checkout, "images", "overcloud-node", "build"),
             "--output", NODE_IMAGE, "--quiet"], "building the overcloud node image")
    return rootfs


def write_index(folder: str, index: str) -> bool:
    """Packages (the text of `dpkg-scanpackages`), Packages.gz and Release, rewritten only
    when the list changes, so hosts' apt sees nothing new. True when it did."""
    if read_if_exists(os.path.join(folder, "Packages")) == index and all(
            os.path.exists(os.path.join(folder, name)) for name in INDEX_FILES):
        return False
    packages = index.encode()
    compressed = gzip.compress(packages, mtime=0)   # the same list, the same bytes
    write_atomic(os.path.join(folder, "Packages.gz"), compressed)
    write_atomic(os.path.join(folder, "Packages"), packages)
    lines = ["Origin: Stackbox", "Label: Stackbox overcloud packages",
             f"Date: {formatdate(time.time(), usegmt=True)}", "SHA256:"]
    lines += [f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}"
              for name, data in (("Packages", packages), ("Packages.gz", compressed))]
    write_atomic(os.path.join(folder, "Release"), "\n".join(lines) + "\n")
    return True


def _scan(folder: str) -> str:
    os.makedirs(folder, exist_ok=True)
    return run(["dpkg-scanpackages", "--multiversion", "."], f"indexing the debs in {folder}",
               cwd=folder)


class Apt:
    """The undercloud's apt-get, resolving against the node image's dpkg status, with its
    lists and downloads in `work` and the Debian 12 archive as its only sources."""

    def __init__(self, work: str, rootfs: str | None):
        self.work, self.rootfs = work, rootfs
        self.archives = os.path.join(work, "archives")
        self.lists = os.path.join(work, "lists")
        self.empty = os.path.join(work, "empty")
        self.sources = os.path.join(work, "sources.list")

    def download(self, packages: list[str], reuse: str) -> list[str]:
        """The file names of the debs `packages` need, downloaded into self.archives (those
        already in `reuse` are linked, not downloaded again)."""
        self._prepare()
        self._apt("update", [], "reading the Debian archive's package lists")
        needed = [match.group(2) for match in map(URI_LINE.match, self._apt(
            "install", ["--print-uris", *packages], f"resolving {' '.join(packages)}")
            .splitlines()) if match]
        for name in needed:
            if os.path.exists(os.path.join(reuse, name)):
                os.link(os.path.join(reuse, name), os.path.join(self.archives, name))
        self._apt("install", packages, f"downloading {' '.join(packages)}")
        missing = [name for name in needed
                   if not os.path.exists(os.path.join(self.archives, name))]
        if missing:
            raise RepoError(f"apt-get did not download {', '.join(missing)}")
        return needed

    def _prepare(self):
        shutil.rmtree(self.archives, ignore_errors=True)
        for folder in (os.path.join(self.archives, "partial"),
                       os.path.join(self.lists, "partial"), self.empty):
            os.makedirs(folder, exist_ok=True)
        keyring = os.path.join(self.rootfs, "usr/share/keyrings/debian-archive-keyring.gpg")
        lines = [f"deb [signed-by={keyring}] {MIRROR} {SUITE} main",
                 f"deb [signed-by={keyring}] {MIRROR} {SUITE}-updates main",
                 f"deb [signed-by={keyring}] {SECURITY_MIRROR} {SUITE}-security main"]
        write_atomic(self.sources, "\n".join(lines) + "\n")

    def _apt(self, verb: str, arguments: list[str], what: str) -> str:
        options = {
            "Dir::State::status": os.path.join(self.rootfs, "var/lib/dpkg/status"),
            "Dir::State::Lists": self.lists,
            "Dir::State::extended_states": os.path.join(self.work, "extended_states"),
            "Dir::Cache::archives": self.archives,
            "Dir::Cache::pkgcache": "", "Dir::Cache::srcpkgcache": "",
            "Dir::Etc::SourceList": self.sources, "Dir::Etc::SourceParts": self.empty,
            "Dir::Etc::Preferences": os.path.join(self.empty, "preferences"),
            "Dir::Etc::PreferencesParts": self.empty,
            # The rootfs is the image, not a running system: nothing to lock.
            "Debug::NoLocking": "true",
            "APT::Sandbox::User": "root",
            "APT::Install-Recommends": "false",
        }
        flags = [f"-o{name}={value}" for name, value in options.items()]
        extra = ["--download-only", "--yes"] if verb == "install" else []
        return run(["apt-get", "-q", *flags, verb, *extra, *arguments], what)
