"""Process plumbing shared by the supervisor and its children."""
import ctypes
import os
import signal

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
