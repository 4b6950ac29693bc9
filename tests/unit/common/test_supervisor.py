"""The supervisor restarts dead children with backoff and stops them all."""
import os
import signal
import sys

from tests.fixtures.processes import wait_for
from undercloud.serve.supervisor import Child, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_a_killed_child_is_restarted_and_logged(tmp_path, caplog):
    supervisor = Supervisor(str(tmp_path), backoff_max=2, stop_timeout=2)
    supervisor.add(Child("sleeper", SLEEPER))
    supervisor.start_all()
    first = supervisor.children[0].pid
    os.kill(first, signal.SIGKILL)
    with caplog.at_level("WARNING"):
        assert wait_for(lambda: (supervisor.check(), supervisor.children[0].pid not in
                                 (None, first))[1])
    assert "killed by SIGKILL" in caplog.text and "restarted sleeper" in caplog.text
    assert supervisor.children[0].restarts == 1
    supervisor.stop()


def test_backoff_doubles_for_a_crashing_child(tmp_path):
    supervisor = Supervisor(str(tmp_path), backoff_max=1, stop_timeout=2)
    supervisor.add(Child("crasher", [sys.executable, "-c", "raise SystemExit(3)"]))
    supervisor.start_all()
    assert wait_for(lambda: (supervisor.check(), supervisor.children[0].restarts >= 2)[1])
    assert supervisor.children[0].backoff == 1  # 0.5, 1, then capped at the maximum
    supervisor.stop()
    assert "crasher" in (tmp_path / "crasher.log").name


def test_stop_kills_what_ignores_sigterm(tmp_path):
    stubborn = [sys.executable, "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)"]
    supervisor = Supervisor(str(tmp_path), stop_timeout=1)
    supervisor.add(Child("stubborn", stubborn))
    supervisor.add(Child("polite", SLEEPER))
    supervisor.start_all()
    assert wait_for(lambda: b"ready" in (tmp_path / "stubborn.log").read_bytes())
    assert supervisor.stop() == ["stubborn"]
    assert all(child.pid is None for child in supervisor.children)
