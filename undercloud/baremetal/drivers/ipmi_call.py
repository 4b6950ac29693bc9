"""One IPMI-over-LAN call with pyghmi, in a process of its own (drivers/ipmi.py runs it):

    python -m undercloud.baremetal.drivers.ipmi_call < REQUEST.json

REQUEST: {"address", "port", "username", "password", "timeout", "action", "args"}; the
password comes on stdin, never on the command line. The answer, on stdout, is one JSON
object: {"result": ...} or {"error": message, "kind": "auth" | "unreachable" | "refused"}.

pyghmi keeps process-wide session tables and an IO thread, and can wait forever on a BMC
that stops answering mid-login; a process per call is killed at its deadline and takes that
state with it, so one BMC never holds up another node's calls.
"""
import json
import signal
import sys

from pyghmi import exceptions as pyghmi_exceptions
from pyghmi.ipmi import command
from pyghmi.ipmi.private import session

# pyghmi's words for a login the BMC turned down, and for a BMC that went quiet.
AUTH_WORDS = ("password", "unauthorized", "rakp", "username")
SILENCE_WORDS = ("timeout", "session")


class Deadline(BaseException):
    """The call ran out of time; a BaseException, as pyghmi catches Exception in places."""


class Suite3Session(session.Session):
    """Proposes cipher suite 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128) from the start.

    pyghmi 1.6.19 proposes SHA-256 first and takes for granted that the BMC accepted it, but
    pyghmi-based BMCs (virtualbmc among them) answer suite 3 anyway, and RAKP then fails with
    a struct error. Suite 3 is what every IPMI 2.0 BMC speaks (ipmitool's long default)."""

    def _initsession(self):
        super()._initsession()
        self.attemptedhash = 1          # session.py: 1 proposes SHA-1, 256 SHA-256


class Suite3Command(command.Command):
    """pyghmi's Command on a Suite3Session: Command.__init__ hard-wires session.Session, so
    this is its synchronous branch with the one change."""

    def __init__(self, address: str, port: int, username: str, password: str):
        self.onlogon = None
        self.bmc = address
        self._sdrcachedir = self._sdr = self._oem = None
        self._oemknown = False
        self._netchannel = self._ipv6support = self.certverify = None
        self.kwargs = {}
        # Bytes, as pyghmi compares them with its session tables (str never matches there).
        self.ipmi_session = Suite3Session(bmc=address, userid=username.encode(),
                                          password=password.encode(), port=port)


def power_state(bmc: Suite3Command) -> str:
    return bmc.get_power()["powerstate"]


def set_power(bmc: Suite3Command, state: str, wait: int = 0) -> str:
    """state: on | off | softoff | boot (on when off, else reset); wait: seconds to let the
    machine reach on/off. Returns the state reached, or "pending" without waiting."""
    answer = bmc.set_power(state, wait=wait or False)
    return answer.get("powerstate", "pending")


def boot_device(bmc: Suite3Command) -> dict:
    answer = bmc.get_bootdev()
    return {"device": answer.get("bootdev"), "persistent": answer.get("persistent")}


def set_boot_device(bmc: Suite3Command, device: str, persistent: bool) -> dict:
    answer = bmc.set_bootdev(device, persist=persistent)
    if isinstance(answer, dict) and "error" in answer:
        raise pyghmi_exceptions.IpmiException(answer["error"])
    return {"device": device}


ACTIONS = {"power_state": power_state, "set_power": set_power, "boot_device": boot_device,
           "set_boot_device": set_boot_device}


def log_out(bmc: Suite3Command) -> None:
    """Close the session: BMCs hold only a few at a time (best effort, within the deadline)."""
    try:
        bmc.ipmi_session.logout()
    except (Exception, Deadline):
        pass


def kind_of(message: str) -> str:
    lowered = message.lower()
    if any(word in lowered for word in AUTH_WORDS):
        return "auth"
    if lowered in ("", "none") or any(word in lowered for word in SILENCE_WORDS):
        return "unreachable"   # pyghmi says "None" when its retries ran out
    return "refused"


def run(request: dict) -> dict:
    def expire(signum, frame):
        raise Deadline()

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(request["timeout"]))
    try:
        bmc = Suite3Command(request["address"], int(request["port"]), request["username"],
                            request["password"])
        try:
            result = ACTIONS[request["action"]](bmc, **request.get("args", {}))
        finally:
            log_out(bmc)
        return {"result": result}
    except Deadline:
        return {"error": f"no answer within {request['timeout']:g} s", "kind": "unreachable"}
    except (pyghmi_exceptions.PyghmiException, OSError, ValueError, AssertionError) as exc:
        message = str(exc) or type(exc).__name__
        return {"error": message, "kind": kind_of(message)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main() -> int:
    request = json.load(sys.stdin)
    answer = run(request)
    if "error" in answer:
        answer["error"] = answer["error"].replace(request["password"], "******") \
            if request["password"] else answer["error"]
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
