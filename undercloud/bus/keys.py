"""CurveZMQ key pairs for the bus, kept in DATA_DIR/secrets/bus/.

    broker.key, broker.key_secret  the broker's pair; every peer needs broker.key
    peer.key, peer.key_secret      this host's peer pair
    authorized/*.key               public keys the broker accepts: this host's
                                   peer.key; the deployer adds other hosts' keys
                                   (the broker re-reads the folder when it changes)

Directories are 0700 and files 0600. Key material is never logged.
"""
import collections
import contextlib
import logging
import os
import shutil
import tempfile

import zmq.auth

log = logging.getLogger("undercloud.bus.keys")

BROKER = "broker"
PEER = "peer"

PeerKeys = collections.namedtuple("PeerKeys", "public secret broker_public")


def key_dir(cfg) -> str:
    return cfg.path("secrets", "bus")


def authorized_dir(cfg) -> str:
    return os.path.join(key_dir(cfg), "authorized")


def ensure_keys(cfg) -> str:
    """Create the broker's and this host's key pairs once; return the key directory."""
    directory = key_dir(cfg)
    if _complete(directory):
        return directory
    with _private_umask():
        parent = os.path.dirname(directory)
        os.makedirs(parent, mode=0o700, exist_ok=True)
        if not os.path.isdir(directory):
            # Built aside and renamed into place so racing processes agree on one set.
            staging = tempfile.mkdtemp(prefix=".bus-keys-", dir=parent)
            _create_missing(staging)
            try:
                os.rename(staging, directory)
                log.info("created CurveZMQ keys for the bus in %s", directory)
            except OSError:  # another process got there first
                shutil.rmtree(staging, ignore_errors=True)
        _create_missing(directory)
    return directory


def peer_keys(cfg) -> PeerKeys:
    """This host's peer pair and the broker's public key, for a curve client socket."""
    directory = key_dir(cfg)
    # An overcloud host holds only these two (the deployer's); the undercloud makes its own.
    if not all(os.path.exists(os.path.join(directory, name))
               for name in (f"{PEER}.key_secret", f"{BROKER}.key")):
        ensure_keys(cfg)
    public, secret = zmq.auth.load_certificate(os.path.join(directory, f"{PEER}.key_secret"))
    broker_public, _ = zmq.auth.load_certificate(os.path.join(directory, f"{BROKER}.key"))
    return PeerKeys(public, secret, broker_public)


def broker_keys(cfg) -> tuple[bytes, bytes]:
    directory = ensure_keys(cfg)
    return zmq.auth.load_certificate(os.path.join(directory, f"{BROKER}.key_secret"))


def _complete(directory: str) -> bool:
    return all(os.path.exists(os.path.join(directory, name)) for name in (
        f"{BROKER}.key_secret", f"{PEER}.key_secret", os.path.join("authorized", f"{PEER}.key")))


def _create_missing(directory: str) -> None:
    os.chmod(directory, 0o700)
    for name in (BROKER, PEER):
        create_pair(directory, name)
    authorized = os.path.join(directory, "authorized")
    os.makedirs(authorized, mode=0o700, exist_ok=True)
    os.chmod(authorized, 0o700)
    accepted = os.path.join(authorized, f"{PEER}.key")
    if not os.path.exists(accepted):
        shutil.copyfile(os.path.join(directory, f"{PEER}.key"), accepted)
        os.chmod(accepted, 0o600)


def create_pair(directory: str, name: str) -> bool:
    """NAME.key and NAME.key_secret (0600) unless the secret half exists; True when made."""
    if os.path.exists(os.path.join(directory, f"{name}.key_secret")):
        return False
    with _private_umask():
        for path in zmq.auth.create_certificates(directory, name):
            os.chmod(path, 0o600)
    return True


@contextlib.contextmanager
def _private_umask():
    # Files are born private, so there is no moment when a secret is readable by others.
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
