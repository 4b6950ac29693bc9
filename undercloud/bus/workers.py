"""WorkerPool: a few threads that run bus handlers, so a slow call does not hold up the rest.

Each worker owns an "outbox" socket (made by the caller's factory) to hand
replies back to the socket thread, since ZeroMQ sockets are not thread-safe.
"""
import logging
import queue
import threading
import time

log = logging.getLogger("undercloud.bus.workers")


class WorkerPool:
    def __init__(self, size: int, name: str, handle, open_outbox):
        self._size = size
        self._name = name
        self._handle = handle  # handle(job, outbox)
        self._open_outbox = open_outbox
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self._size):
            thread = threading.Thread(target=self._work, name=f"{self._name}-worker-{number}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, job) -> None:
        self._jobs.put(job)

    def stop(self, timeout: float) -> None:
        """Let running handlers finish, up to timeout; queued jobs still run first."""
        for _ in self._threads:
            self._jobs.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [thread.name for thread in self._threads if thread.is_alive()]
        if stuck:
            log.warning("%s: handlers still running after %g s in %s",
                        self._name, timeout, ", ".join(stuck))
        self._threads = []

    def _work(self) -> None:
        outbox = self._open_outbox()
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    self._handle(job, outbox)
                except Exception:
                    log.exception("%s: a worker failed to handle a job", self._name)
        finally:
            outbox.close(linger=1000)  # close is asynchronous; linger lets the last reply land
