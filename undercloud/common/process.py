"""Process plumbing shared by the supervisor and its children."""
import ctypes
import os
import signal
import time

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent(sig: int = signal.SIGTERM):
    """Ask the kernel to signal us when our parent dies, so nothing is orphaned."""
    parent = os.getppid()
    _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), sig)


def set_title(title: str):
    """Name the process for ps/top (Linux prctl PR_SET_NAME, 15 characters)."""
    _libc.prctl(15, title.encode()[:15], 0, 0, 0)


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def terminate(pid: int, grace_seconds: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after the grace period."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return
        time.sleep(0.005)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
