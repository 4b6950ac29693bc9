"""The manager process hosts managers as threads: a signal stops them all; one that dies
takes the process down (exit 1, logged with its name) so the supervisor restarts it."""
import os
import signal
import threading

import pytest

from undercloud.common import config as configuration
from undercloud.serve import manager as manager_process


class Steady:
    """A manager that runs until asked to stop."""
    def __init__(self, config):
        self.stopping = threading.Event()
        self.started = threading.Event()

    def run(self):
        self.started.set()
        self.stopping.wait()

    def stop(self):
        self.stopping.set()


class Dies(Steady):
    def run(self):
        self.started.set()
        raise RuntimeError("the hypervisor vanished")


@pytest.fixture
def made(monkeypatch, tmp_path):
    made = {}

    def load(process):
        kind = Dies if process == "compute-host" and made.get("dying") else Steady
        return lambda config: made.setdefault(process, kind(config))
    monkeypatch.setattr(manager_process, "load_manager", load)
    config = configuration.load(environ={}, overrides={"data_dir": str(tmp_path)})
    return made, config


def test_a_manager_that_dies_stops_the_others_and_the_process_exits_1(made):
    made, config = made
    made["dying"] = True

    status = manager_process.host(config, ["compute-host", "network-agent"])

    assert status == 1
    assert made["network-agent"].stopping.is_set()
    with open(os.path.join(config.path("logs"), "managers.log")) as stream:
        log = stream.read()
    assert "manager thread compute-host died" in log and "the hypervisor vanished" in log


def test_a_signal_stops_every_manager_and_the_process_exits_0(made):
    made, config = made
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()

    status = manager_process.host(config, ["compute-host", "network-agent", "network-server"])

    assert status == 0
    assert all(m.stopping.is_set() for name, m in made.items() if name != "dying")
