"""The record of the devices, namespaces and chains this agent made (DATA_DIR/network).

Reconciliation and cleanup only ever remove what is recorded here, so another program's
bridge that happens to be called brqX, or another agent's chains, are never touched. Names
are recorded before they are made, so a crash in between leaves nothing unrecorded.
"""
import json
import os
import threading

from undercloud.common.files import write_atomic

KINDS = ("namespaces", "devices", "chains")


class Ledger:
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._names = {kind: set() for kind in KINDS}
        if os.path.exists(path):
            with open(path) as stream:
                stored = json.load(stream)
            for kind in KINDS:
                self._names[kind] = set(stored.get(kind, []))

    def names(self, kind: str) -> set[str]:
        with self._lock:
            return set(self._names[kind])

    def owns(self, kind: str, name: str) -> bool:
        with self._lock:
            return name in self._names[kind]

    def add(self, kind: str, *names: str) -> None:
        with self._lock:
            if set(names) - self._names[kind]:
                self._names[kind].update(names)
                self._save()

    def discard(self, kind: str, *names: str) -> None:
        with self._lock:
            if set(names) & self._names[kind]:
                self._names[kind].difference_update(names)
                self._save()

    def empty(self) -> bool:
        with self._lock:
            return not any(self._names.values())

    def _save(self):
        write_atomic(self.path, json.dumps({kind: sorted(self._names[kind]) for kind in KINDS},
                                           indent=1))
