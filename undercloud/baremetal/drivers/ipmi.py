"""A node's BMC over IPMI (pyghmi, cipher suite 3): power state and boot device.

Each call runs ipmi_call.py in a process of its own with a hard deadline (ipmi_timeout per
attempt, ipmi_retries more attempts when the BMC is silent or busy), so a BMC that does not
answer costs seconds and never blocks another node. Every failure is one IpmiError whose
message names the BMC by address:port and never holds the password.
"""
import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)
CALL_MODULE = "undercloud.baremetal.drivers.ipmi_call"
# The helper's interpreter start and imports, on top of the call's own deadline.
STARTUP_SECONDS = 10.0

# Ironic's boot devices -> pyghmi's, and back.
BOOT_DEVICES = {"pxe": "network", "disk": "hd", "cdrom": "optical", "bios": "setup",
                "safe": "safe"}
IRONIC_BOOT_DEVICES = {pyghmi: ironic for ironic, pyghmi in BOOT_DEVICES.items()}
# Ironic's power targets -> pyghmi's requests ("boot": on when off, else reset).
POWER_REQUESTS = {"power on": "on", "power off": "off", "soft power off": "softoff",
                  "rebooting": "boot"}
POWER_STATES = {"on": "power on", "off": "power off"}


class IpmiError(Exception):
    """The BMC could not be reached, refused the credentials, or refused the request.

    kind: "auth" (credentials), "unreachable" (no answer), "refused" (an IPMI error)."""

    def __init__(self, message: str, kind: str = "refused"):
        super().__init__(message)
        self.kind = kind


@dataclass
class Bmc:
    address: str
    port: int
    username: str
    password: str = field(repr=False)
    timeout: float = 5.0
    retries: int = 2

    @property
    def where(self) -> str:
        return f"{self.address}:{self.port}"

    def power_state(self) -> str:
        """"power on" or "power off"."""
        return POWER_STATES[self._call("power_state")]

    def set_power(self, target: str, wait: float = 0) -> str:
        """Ask for an Ironic power target; with wait, also wait that long for the machine to
        reach it. Returns the state reached ("power on"/"power off"), or None if not waited."""
        if target not in POWER_REQUESTS:
            raise IpmiError(f"power target {target!r} is not one of "
                            f"{', '.join(POWER_REQUESTS)}")
        reached = self._call("set_power", {"state": POWER_REQUESTS[target],
                                           "wait": int(wait)}, extra_time=wait)
        return POWER_STATES.get(reached)

    def boot_device(self) -> dict:
        """{"boot_device": "pxe" | "disk" | ... | None, "persistent": bool | None}"""
        answer = self._call("boot_device")
        return {"boot_device": IRONIC_BOOT_DEVICES.get(answer["device"]),
                "persistent": answer["persistent"]}

    def set_boot_device(self, device: str, persistent: bool = False) -> None:
        if device not in BOOT_DEVICES:
            raise IpmiError(f"boot device {device!r} is not one of {', '.join(BOOT_DEVICES)}")
        self._call("set_boot_device", {"device": BOOT_DEVICES[device],
                                       "persistent": bool(persistent)})

    def _call(self, action: str, args: dict | None = None, extra_time: float = 0):
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            answer = self._attempt(action, args or {}, extra_time)
            if "result" in answer:
                return answer["result"]
            LOG.debug("BMC at %s: %s attempt %d of %d failed: %s", self.where, action, attempt,
                      attempts, answer["error"])
            if answer["kind"] == "auth":
                break   # a retry would only count as one more failed login
        raise IpmiError(self._explain(action, answer, attempt), answer["kind"])

    def _attempt(self, action: str, args: dict, extra_time: float) -> dict:
        request = {"address": self.address, "port": self.port, "username": self.username,
                   "password": self.password, "timeout": self.timeout + extra_time,
                   "action": action, "args": args}
        try:
            done = subprocess.run([sys.executable, "-m", CALL_MODULE], input=json.dumps(request),
                                  capture_output=True, text=True,
                                  timeout=self.timeout + extra_time + STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            return {"error": f"no answer within {self.timeout + extra_time:g} s",
                    "kind": "unreachable"}
        try:
            return json.loads(done.stdout)
        except ValueError:
            last_line = (done.stderr.strip().splitlines() or ["no output"])[-1]
            if self.password:
                last_line = last_line.replace(self.password, "******")
            return {"error": f"the IPMI helper failed (exit status {done.returncode}): "
                             f"{last_line}", "kind": "refused"}

    def _explain(self, action: str, answer: dict, attempts: int) -> str:
        if answer["kind"] == "auth":
            return (f"the BMC at {self.where} rejected the credentials of user "
                    f"{self.username!r} ({answer['error']})")
        if answer["kind"] == "unreachable":
            return (f"the BMC at {self.where} did not answer ({answer['error']}, "
                    f"{attempts} attempt{'s' if attempts > 1 else ''})")
        return f"the BMC at {self.where} refused {action.replace('_', ' ')}: {answer['error']}"
