"""A lab machine's BMC: IPMI over LAN (RMCP+, cipher suite 3) on one UDP port, as pyghmi
serves it, mapped onto a Machine (machines.py). One process per machine, so a hung BMC
stalls only its own machine:

    python -m undercloud.lab.bmc --config BMC.json

BMC.json: {"name", "address", "port", "username", "password", "machine": {"type":
"libvirt", "uri", "domain"}, "log_file"}; it holds the password, so keep it private.
Failures are answered in IPMI's terms (completion codes) with a log line naming the machine;
the password is never logged.
"""
import argparse
import json
import logging
import os
import secrets
import sys

from pyghmi.ipmi import bmc as pyghmi_bmc
from pyghmi.ipmi.private import serversession

from undercloud.lab import machines

LOG = logging.getLogger("undercloud.lab.bmc")

# IPMI completion codes (IPMI v2.0, table 5-2).
NODE_BUSY = 0xC0
INVALID_DATA = 0xCC
NOT_IN_PRESENT_STATE = 0xD5
PARAMETER_NOT_SUPPORTED = 0x80

BOOT_FLAGS = 5
# Boot flags byte 1: the flags are valid (bit 7) and apply to every boot (bit 6).
VALID_PERSISTENT = 0b11000000
# The device selector (byte 2, bits 5:2) for what the lab boots from.
SELECTORS = {"network": 0b0001, "hd": 0b0010}
DEVICES = {selector: device for device, selector in SELECTORS.items()}
NO_OVERRIDE = 0

# RMCP+ open session: the algorithms of cipher suite 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96,
# AES-CBC-128), the only one pyghmi's server speaks, and the status for any other proposal.
SUITE_3 = {12: 1, 20: 1, 28: 1}
NO_CIPHER_SUITE_MATCH = 0x11


class Accounts(dict):
    """username -> password. An unknown user gets a password nobody knows, so the client
    fails RAKP's check as it does for a wrong password, instead of waiting for a reply."""

    def get(self, username, default=None):
        return super().get(username) or secrets.token_hex(16)


class Suite3Session(serversession.ServerSession):
    """Refuses other cipher suites as a real BMC does, instead of answering every proposal
    with suite 3: clients (pyghmi's too) then retry with suite 3 rather than fail in RAKP."""

    def create_open_session_response(self, request):
        if len(request) >= 32 and all(request[at] == algorithm
                                      for at, algorithm in SUITE_3.items()):
            return super().create_open_session_response(request)
        self.clientsessionid = request[4:8]
        return bytearray([request[0], NO_CIPHER_SUITE_MATCH, 0, 0]) + request[4:8]


class LabBmc(pyghmi_bmc.Bmc):
    def __init__(self, machine: machines.Machine, username: str, password: str,
                 address: str = "127.0.0.1", port: int = 623):
        super().__init__(Accounts({username: password}), port=port, address=address)
        self.machine = machine
        self._last_control = None   # ((session, rqSeq, directive), completion code)

    def sessionless_data(self, data, sockaddr):
        data = bytearray(data)
        # An RMCP+ open session request (IPMI 2.0 payload 0x10) starts a session of ours.
        if len(data) >= 22 and data[0] == 6 and data[2:4] == b"\xff\x07" and \
                data[4] == 6 and data[5] == 0x10:
            Suite3Session(self.authdata, self.kg, sockaddr, self.serversocket, data[16:],
                          self.uuid, bmc=self)
            return
        super().sessionless_data(data, sockaddr)

    def _power(self, action: str, change) -> int:
        try:
            change()
        except machines.MachineError as exc:
            LOG.error("%s: power %s failed: %s", self.machine.name, action, exc)
            return NODE_BUSY
        LOG.info("%s: power %s", self.machine.name, action)
        return 0

    def _power_state(self) -> str | None:
        try:
            return self.machine.power_state()
        except machines.MachineError as exc:
            LOG.error("%s: cannot read the power state: %s", self.machine.name, exc)
            return None

    def power_on(self):
        return self._power("on", self.machine.power_on)

    def power_off(self):
        return self._power("off", self.machine.power_off)

    def power_shutdown(self):
        return self._power("soft off", self.machine.shutdown)

    def _restart(self, action: str) -> int:
        state = self._power_state()
        if state is None:
            return NODE_BUSY
        if state == "off":
            # A real BMC cannot reset or cycle a machine that is off.
            LOG.info("%s: power %s refused: the machine is off", self.machine.name, action)
            return NOT_IN_PRESENT_STATE
        return self._power(action, self.machine.reset)

    def power_reset(self):
        return self._restart("reset")

    def power_cycle(self):
        return self._restart("cycle")

    def control_chassis(self, request, session):
        directive = request["data"][0] if request["data"] else None
        request_id = (session, session.seqlun, directive)
        if self._last_control and self._last_control[0] == request_id:
            # The client resent a request we were still busy with: answer, don't act twice.
            return session.send_ipmi_response(code=self._last_control[1])
        action = {0: self.power_off, 1: self.power_on, 2: self.power_cycle,
                  3: self.power_reset, 5: self.power_shutdown}.get(directive)
        code = action() if action else INVALID_DATA
        self._last_control = (request_id, code)
        session.send_ipmi_response(code=code)

    def get_chassis_status(self, session):
        state = self._power_state()
        if state is None:
            return session.send_ipmi_response(code=NODE_BUSY)
        # Current power state (bit 0 on), last power event, misc. chassis state.
        session.send_ipmi_response(data=[1 if state == "on" else 0, 0, 0])

    def get_system_boot_options(self, request, session):
        if request["data"][0] != BOOT_FLAGS:
            return session.send_ipmi_response(code=PARAMETER_NOT_SUPPORTED)
        try:
            device = self.machine.boot_device()
        except machines.MachineError as exc:
            LOG.error("%s: cannot read the boot device: %s", self.machine.name, exc)
            return session.send_ipmi_response(code=NODE_BUSY)
        selector = SELECTORS.get(device, NO_OVERRIDE)
        session.send_ipmi_response(data=[1, BOOT_FLAGS, VALID_PERSISTENT, selector << 2,
                                         0, 0, 0])

    def set_system_boot_options(self, request, session):
        data = request["data"]
        if data[0] != BOOT_FLAGS:
            # Set-in-progress, info acknowledge ...: accepted, as most BMCs do.
            return session.send_ipmi_response()
        if len(data) < 3:
            return session.send_ipmi_response(code=INVALID_DATA)
        selector = (data[2] >> 2) & 0b1111
        if selector == NO_OVERRIDE:
            return session.send_ipmi_response()
        device = DEVICES.get(selector)
        if device is None:
            LOG.info("%s: boot device selector %#x refused: the lab boots from %s only",
                     self.machine.name, selector, " or ".join(SELECTORS))
            return session.send_ipmi_response(code=INVALID_DATA)
        try:
            self.machine.set_boot_device(device)
        except machines.MachineError as exc:
            LOG.error("%s: cannot set the boot device to %s: %s", self.machine.name, device,
                      exc)
            return session.send_ipmi_response(code=NODE_BUSY)
        # The domain's boot order is persistent, whatever the request asked.
        LOG.info("%s: boot device %s", self.machine.name, device)
        session.send_ipmi_response()


def serve(config: dict) -> None:
    machine = machines.from_spec(config["machine"])
    bmc = LabBmc(machine, config["username"], config["password"],
                 address=config.get("address", "127.0.0.1"), port=int(config["port"]))
    LOG.info("%s: BMC listening on %s:%s for user %s", machine.name,
             config.get("address", "127.0.0.1"), config["port"], config["username"])
    bmc.listen()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m undercloud.lab.bmc",
                                     description="A lab machine's IPMI BMC.")
    parser.add_argument("--config", required=True, help="the BMC's JSON file")
    args = parser.parse_args(argv)
    with open(args.config) as source:
        config = json.load(source)
    handler = logging.FileHandler(config["log_file"]) if config.get("log_file") \
        else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s "
                                           "%(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    LOG.info("BMC %s starting (pid %s)", config.get("name"), os.getpid())
    try:
        serve(config)
    except OSError as exc:
        LOG.error("BMC %s cannot listen on %s:%s: %s", config.get("name"),
                  config.get("address"), config.get("port"), exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
