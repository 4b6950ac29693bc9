"""Start the undercloud's child processes and keep them running.

A child that dies is restarted with exponential backoff (reset once it has
stayed up a while), and every death and restart is logged. Stopping sends
SIGTERM to all (the bus broker last), then SIGKILL to whatever is left after the stop timeout.
"""
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from undercloud.common.process import die_with_parent

LOG = logging.getLogger(__name__)
STABLE_AFTER = 30.0    # seconds up before a child's backoff resets
FIRST_BACKOFF = 0.5


@dataclass
class Child:
    name: str
    argv: list[str]
    pass_fds: tuple = ()
    log_name: str | None = None    # the log file's name when it is not the child's
    stop_last: bool = False        # the bus broker: the others still talk over it as they stop
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


@dataclass
class Supervisor:
    log_dir: str
    backoff_max: float = 30.0
    stop_timeout: float = 8.0
    children: list[Child] = field(default_factory=list)
    on_change: object = None   # called after a child starts, so the run file stays current

    def add(self, child: Child):
        self.children.append(child)

    def _spawn(self, child: Child):
        log = open(os.path.join(self.log_dir, f"{child.log_name or child.name}.log"), "ab")
        try:
            child.process = subprocess.Popen(
                child.argv, pass_fds=child.pass_fds, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        finally:
            log.close()
        child.started_at = time.monotonic()
        child.restart_at = None
        if self.on_change:
            self.on_change()

    def start_all(self):
        for child in self.children:
            self._spawn(child)
            LOG.info("started %s as pid %d", child.name, child.process.pid)

    def check(self):
        """Notice dead children and restart those whose backoff has passed."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._spawn(child)
                    LOG.warning("restarted %s as pid %d (restart %d)",
                                child.name, child.process.pid, child.restarts)
                continue
            code = child.process.poll()
            if code is None:
                continue
            lived = now - child.started_at
            if lived >= STABLE_AFTER:
                child.backoff = FIRST_BACKOFF
            delay = child.backoff
            child.backoff = min(child.backoff * 2, self.backoff_max)
            child.restart_at = now + delay
            LOG.warning("%s (pid %d) %s after %.1f s; restarting in %.1f s",
                        child.name, child.process.pid, _describe_exit(code), lived, delay)

    def stop(self):
        """SIGTERM every child (those marked stop_last once the others are gone), wait, then
        SIGKILL what is left; returns the stragglers."""
        running = [c for c in self.children if c.process and c.process.poll() is None]
        deadline = time.monotonic() + self.stop_timeout
        for group in ([c for c in running if not c.stop_last],
                      [c for c in running if c.stop_last]):
            for child in group:
                child.process.send_signal(signal.SIGTERM)
            while time.monotonic() < deadline and any(c.process.poll() is None for c in group):
                time.sleep(0.05)
        stragglers = [c for c in running if c.process.poll() is None]
        for child in stragglers:
            LOG.warning("%s (pid %d) did not stop in %.0f s; killing it",
                        child.name, child.process.pid, self.stop_timeout)
            child.process.kill()
            child.process.wait()
        for child in self.children:
            child.restart_at = None
        return [c.name for c in stragglers]
