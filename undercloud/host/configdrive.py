"""The config drive's disc: an ISO 9660 image labelled config-2 in Nova's layout, so
cloud-init, cirros, our tiny guest and the overcloud node image read it unchanged:
openstack/<version>/{meta_data.json, user_data, network_data.json, vendor_data.json,
vendor_data2.json} for each dated version and `latest`. Built with xorriso (Debian package),
never mounted. Compute writes its guests' drives with it, the bare-metal conductor its nodes'.
"""
import os
import shutil
import subprocess
import tempfile

LABEL = "config-2"
# (version, newest file set): a dated folder carries what that metadata version had.
OPENSTACK_VERSIONS = [
    ("2012-08-10", {"meta_data.json", "user_data"}),
    ("2013-04-04", {"meta_data.json", "user_data"}),
    ("2013-10-17", {"meta_data.json", "user_data", "vendor_data.json"}),
    ("2015-10-15", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json"}),
    ("2016-06-30", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json"}),
    ("2016-10-06", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                    "vendor_data2.json"}),
    ("2017-02-22", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                    "vendor_data2.json"}),
    ("2018-08-27", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                    "vendor_data2.json"}),
    ("latest", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                "vendor_data2.json"}),
]


class ConfigDriveError(Exception):
    """The ISO could not be written; the message names the instance and the cause."""


def openstack_files(documents: dict[str, bytes]) -> dict[str, bytes]:
    """openstack/<version>/<name> for each document (meta_data.json, user_data...) in every
    metadata version that had it: Nova's layout."""
    files = {}
    for version, names in OPENSTACK_VERSIONS:
        for name in names & documents.keys():
            files[f"openstack/{version}/{name}"] = documents[name]
    return files


def write_iso(files: dict[str, bytes], path: str, owner: str, mode: int = 0o644) -> str:
    """Write `files` (path on the ISO -> content) as an ISO labelled config-2 to `path` in one
    step, with `mode`; `owner` ("instance <uuid>") names whose drive it is in errors."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".configdrive-") as scratch:
        tree = os.path.join(scratch, "tree")
        for relative, content in files.items():
            target = os.path.join(tree, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as stream:
                stream.write(content)
        iso = os.path.join(scratch, "disk.config")
        _make_iso(owner, tree, iso)
        os.chmod(iso, mode)
        os.replace(iso, path)
    return path


def _make_iso(owner, tree, iso):
    # Nova's genisoimage arguments, in xorriso's mkisofs emulation: Joliet + Rock Ridge.
    command = ["xorriso", "-as", "mkisofs", "-o", iso, "-ldots", "-allow-lowercase",
               "-allow-multidot", "-l", "-publisher", "Stackbox", "-quiet", "-J", "-r",
               "-V", LABEL, tree]
    if shutil.which("xorriso") is None:
        raise ConfigDriveError(f"cannot build the config drive of {owner}: xorriso is "
                               "not installed (Debian package xorriso)")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigDriveError(f"cannot build the config drive of {owner}: xorriso "
                               f"exited {result.returncode}: {result.stderr.strip()[-500:]}")
