"""The package repository the undercloud serves to overcloud hosts, which have no internet
(layout in playbooks/README.md, "The package repository"):

    DATA_DIR/repo/python/   the stackbox wheel and every dependency's (repo_wheels.py)
    DATA_DIR/repo/debian/   a flat apt repository of the roles' packages (repo_debs.py)

``build`` makes or refreshes both halves; ``ensure``, called on every deploy, rebuilds only
what changed: the stackbox wheel (reproducible, so unchanged code leaves the repo as it was),
the debs when the roles' package lists changed, and everything when the repo is incomplete.
"""
import fcntl
import ipaddress
import os
import time
from contextlib import contextmanager

from undercloud.deploy import repo_debs, repo_wheels
from undercloud.deploy.repo_tools import RepoError

__all__ = ["RepoError", "build", "ensure", "describe", "url", "default_checkout"]
LOCK_WAIT = 3600   # seconds: a first build fetches ~200 MB and compiles libvirt-python


def default_checkout() -> str:
    """The project root: the folder above undercloud/."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def url(config) -> str:
    """Where hosts reach the repo: the bare-metal conductor's provisioning HTTP server."""
    address = ipaddress.IPv4Interface(config["baremetal"]["provisioning_address"]).ip
    return f"http://{address}:{config['baremetal']['http_port']}/repo"


def build(config, checkout: str | None = None, packages: list[str] | None = None,
          say=print) -> dict:
    """Fill DATA_DIR/repo: every wheel, then the debs of `packages` (None: the union of the
    roles' ROLE_packages) and what they need beyond the node image. Returns a summary."""
    checkout = checkout or default_checkout()
    started = time.monotonic()
    with _locked(config):
        python = repo_wheels.build(_python_dir(config), checkout, say)
        debian = repo_debs.build(_debian_dir(config), _requested(checkout, packages),
                                 checkout, say)
    return {"python": python, "debian": debian,
            "seconds": round(time.monotonic() - started, 1)}


def ensure(config, checkout: str | None = None, packages: list[str] | None = None,
           say=print) -> dict:
    """The repo as a deploy needs it, fast when nothing changed: a missing or incomplete repo
    is built; otherwise only the stackbox wheel is rebuilt (replaced only if its bytes
    differ) and the debs only if the package list (None: the roles') changed."""
    checkout = checkout or default_checkout()
    if not complete(config):
        return build(config, checkout, packages, say)
    started = time.monotonic()
    with _locked(config):
        python = repo_wheels.refresh(_python_dir(config), checkout, say)
        requested = _requested(checkout, packages)
        debian_dir = _debian_dir(config)
        if repo_debs.requested(debian_dir) == requested:
            debian = repo_debs.summary(debian_dir)
        else:
            debian = repo_debs.build(debian_dir, requested, checkout, say)
    return {"python": python, "debian": debian,
            "seconds": round(time.monotonic() - started, 1)}


def complete(config) -> bool:
    """Both halves were built to the end at least once."""
    return repo_wheels.complete(_python_dir(config)) and repo_debs.complete(_debian_dir(config))


def describe(config) -> dict:
    """What is in the repo now, for `stackbox repo show`."""
    return {"path": config.path("repo"), "url": url(config), "complete": complete(config),
            "python": repo_wheels.summary(_python_dir(config)),
            "debian": repo_debs.summary(_debian_dir(config))}


def _python_dir(config) -> str:
    return config.path("repo", "python")


def _debian_dir(config) -> str:
    return config.path("repo", "debian")


def _requested(checkout: str, packages: list[str] | None) -> list[str]:
    if packages is not None:
        return sorted(set(packages))
    return repo_debs.role_packages(os.path.join(checkout, "roles"))


@contextmanager
def _locked(config):
    """One build at a time: a deploy's ensure waits for a `stackbox repo build` to end."""
    folder = config.path("repo")
    os.makedirs(folder, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT
    with open(os.path.join(folder, ".lock"), "w") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RepoError(f"another build of {folder} has held it for more than "
                                    f"{LOCK_WAIT} s; try again when it ends") from None
                time.sleep(0.5)
        yield
