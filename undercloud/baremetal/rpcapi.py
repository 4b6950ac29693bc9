"""The typed client for bare metal's conductor (topic ``baremetal-conductor``): the method
names are the messages. The API records intent (provision/power targets) and casts; the
conductor does the slow work (IPMI, PXE, the ramdisk) and records the outcome on the node.

The deploy/discovery ramdisk speaks to the API, never the bus (Ironic's agent endpoints):

  POST /v1/continue_inspection   {"inventory": INVENTORY}  (unauthenticated)
       -> 202 {"uuid": node}; the node is found by any of the inventory's MACs (its ports),
          else by the BMC address; a node not inspecting -> 409, none found -> 404.
  GET  /v1/lookup?addresses=mac1,mac2   (unauthenticated)
       -> 200 {"node": {"uuid", "properties", "instance_info": {}, "driver_internal_info": {}},
               "config": {"heartbeat_timeout": s, "agent_token": token}}
          only for nodes in a state that expects an agent (clean wait, wait call-back,
          inspect wait); the token is minted on the first lookup of each boot.
  POST /v1/heartbeat/{uuid}   {"agent_token", "agent_version", "callback_url": "",
                               "command_result": null | {"name", "status": "SUCCEEDED" |
                                                         "FAILED", "error": str}}
       -> 202 {"command": null | {"name": "write_image", "params": {"url", "checksum",
                                  "checksum_algo": "md5"|"sha256"|"sha512", "disk_format":
                                  "raw", "target_disk": "/dev/vda" | null,
                                  and with a config drive: "configdrive_url" (its ISO),
                                  "configdrive_size" (bytes)}}
                         | {"name": "erase_devices", "params": {}}
                         | {"name": "reboot" | "power_off", "params": {}}}
          A wrong agent_token -> 401. The API keeps the token's SHA-256 in
          driver_internal_info["agent_token_hash"]; the conductor deletes that key whenever
          it boots the node into the ramdisk again, so the next boot's lookup mints anew.
          The conductor answers at most one command per heartbeat; the agent runs it, then
          reports its command_result on the next one.

INVENTORY is IPA's format: {"cpu": {"count", "architecture", "model_name"},
"memory": {"total" (bytes), "physical_mb"}, "disks": [{"name": "/dev/vda", "size" (bytes),
"model", "serial", "rotational"}], "interfaces": [{"name", "mac_address", "ipv4_address"}],
"system_vendor": {"manufacturer", "product_name", "serial_number"},
"boot": {"current_boot_mode": "bios"|"uefi", "pxe_interface": mac}, "bmc_address": ip|null}
"""
from undercloud.bus import RpcClient, remotable

CONDUCTOR_TOPIC = "baremetal-conductor"


# What the conductor's calls may raise; the API answers each in Ironic's terms. Anything
# else (an IPMI failure, a bug) reaches the user as a 500 carrying the conductor's message.
@remotable
class InvalidParameterValue(Exception):
    """The request or the node's settings are wrong (400): a boot device the BMC lacks..."""


@remotable
class NodeLocked(Exception):
    """Another operation holds the node (409); the client may retry."""


@remotable
class InvalidState(Exception):
    """The node's provision state does not allow this (409)."""
# IPMI answers within seconds or the BMC is unreachable; calls wait a little longer.
POWER_CALL_TIMEOUT = 60.0


class ConductorAPI:
    def __init__(self, config, client: RpcClient | None = None):
        self.config = config
        self.client = client or RpcClient(config)

    def _call(self, method: str, timeout: float | None = None, **kwargs):
        return self.client.call(CONDUCTOR_TOPIC, method, timeout=timeout, **kwargs)

    def do_provisioning_action(self, context: dict, node_id: str, verb: str,
                               params: dict) -> None:
        """Carry out a verb the API already recorded (the node sits in the verb's first
        state); params: configdrive, clean_steps, deploy_steps, rescue_password (cast)."""
        self.client.cast(CONDUCTOR_TOPIC, "do_provisioning_action", context=context,
                         node_id=node_id, verb=verb, params=params)

    def change_power_state(self, context: dict, node_id: str, target: str,
                           timeout: int | None = None) -> None:
        """Power on/off/reboot; target_power_state is already recorded (cast)."""
        self.client.cast(CONDUCTOR_TOPIC, "change_power_state", context=context,
                         node_id=node_id, target=target, timeout=timeout)

    def set_boot_device(self, node_id: str, device: str, persistent: bool = False) -> None:
        self._call("set_boot_device", timeout=POWER_CALL_TIMEOUT, node_id=node_id,
                   device=device, persistent=persistent)

    def get_boot_device(self, node_id: str) -> dict:
        """{"boot_device": "pxe"|"disk"|..., "persistent": bool|None}"""
        return self._call("get_boot_device", timeout=POWER_CALL_TIMEOUT, node_id=node_id)

    def validate(self, node_id: str) -> dict:
        """Ironic's interface validation: {interface: {"result": bool, "reason": str|None}}
        for boot, deploy, inspect, management, power, network, console, raid, ..."""
        return self._call("validate", timeout=POWER_CALL_TIMEOUT, node_id=node_id)

    def heartbeat(self, node_id: str, payload: dict) -> dict | None:
        """The ramdisk's heartbeat (token already checked by the API); returns the next
        command for it, or None."""
        return self._call("heartbeat", node_id=node_id, payload=payload)

    def continue_inspection(self, node_id: str, inventory: dict) -> None:
        """Store the inventory, update properties and ports, finish inspection."""
        # The conductor may wait up to 30 s for the node it is still booting into inspect wait.
        self._call("continue_inspection", timeout=POWER_CALL_TIMEOUT, node_id=node_id,
                   inventory=inventory)
