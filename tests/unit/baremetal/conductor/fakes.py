"""Stand-ins for the conductor's unit tests: a provisioning network and a BMC that record
what they are asked, a thread pool that runs work at once, and nodes as the API leaves them
after recording a verb."""
from concurrent.futures import Future

from undercloud import db
from undercloud.baremetal import configdrive, states
from undercloud.baremetal.drivers.ipmi import IpmiError
from undercloud.baremetal.drivers.provisioning import ProvisioningError
from undercloud.baremetal.models import Node, Port

HOST = "conductor-test"
IMAGE = {"url": "http://192.0.2.1:8088/images/abc/image.raw", "checksum": "0" * 64,
         "checksum_algo": "sha256", "size": 1048576}
CONFIGDRIVE = {"url": "http://192.0.2.1:8088/configdrives/def/node.iso", "size": 366592}


class FakeProvisioning:
    def __init__(self):
        self.calls = []
        self.failures = {}   # method name -> message it raises ProvisioningError with
        self.boots = {}      # node id -> mode

    def _record(self, name, *args):
        self.calls.append((name, *args))
        if name in self.failures:
            raise ProvisioningError(self.failures[name])

    def start(self):
        self._record("start")

    def stop(self):
        self._record("stop")

    def prepare_boot(self, node_id, macs, mode):
        self._record("prepare_boot", node_id, list(macs), mode)
        self.boots[node_id] = mode

    def clean_up_boot(self, node_id, macs):
        self._record("clean_up_boot", node_id, list(macs))
        self.boots.pop(node_id, None)

    def prepare_image(self, token, image_id, node_id):
        self._record("prepare_image", token, image_id, node_id)
        return dict(IMAGE)

    def unpublish_image(self, node_id):
        self._record("unpublish_image", node_id)

    def prepare_configdrive(self, node_id, node_name, value):
        """Checks the value as the real one does (InvalidConfigDrive), writes nothing."""
        self._record("prepare_configdrive", node_id, node_name)
        configdrive.check(value)
        return dict(CONFIGDRIVE)

    def unpublish_configdrive(self, node_id):
        self._record("unpublish_configdrive", node_id)

    def names(self):
        return [call[0] for call in self.calls]


class FakeBmc:
    """One BMC: power and boot device in memory; `failure` makes every call raise."""

    def __init__(self, power="power off"):
        self.power = power
        self.device = None
        self.persistent = None
        self.failure = None          # (message, kind)
        self.calls = []
        self.where = "127.0.0.1:6230"

    def _check(self, name, *args):
        self.calls.append((name, *args))
        if self.failure:
            raise IpmiError(*self.failure)

    def power_state(self):
        self._check("power_state")
        return self.power

    def set_power(self, target, wait=0):
        self._check("set_power", target)
        self.power = states.POWER_OFF if target in ("power off", "soft power off") \
            else states.POWER_ON
        return self.power

    def boot_device(self):
        self._check("boot_device")
        return {"boot_device": self.device, "persistent": self.persistent}

    def set_boot_device(self, device, persistent=False):
        self._check("set_boot_device", device, persistent)
        self.device, self.persistent = device, persistent


class InlineExecutor:
    def submit(self, function, *args):
        future = Future()
        try:
            future.set_result(function(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def make_node(provision_state=states.ENROLL, target=None, macs=("52:54:00:00:00:01",),
              **fields) -> Node:
    """A node as the API leaves it after recording a verb (reserved by nobody)."""
    fields.setdefault("driver_info", {"ipmi_address": "127.0.0.1", "ipmi_port": 6230,
                                      "ipmi_username": "admin"})
    fields.setdefault("provision_updated_at", db.utcnow())
    node = Node.create(provision_state=provision_state, target_provision_state=target,
                       **fields)
    for mac in macs:
        Port.create(node=node.id, address=mac, pxe_enabled=True)
    return node


def reload(node: Node) -> Node:
    return Node.get_by_id(node.id)


INVENTORY = {
    "cpu": {"count": 2, "architecture": "x86_64", "model_name": "QEMU Virtual CPU"},
    "memory": {"total": 2147483648, "physical_mb": 2048},
    "disks": [{"name": "/dev/vda", "size": 10 * 1024 ** 3, "model": "", "serial": "vda1",
               "rotational": True},
              {"name": "/dev/vdb", "size": 4 * 1024 ** 3, "serial": "small",
               "rotational": True}],
    "interfaces": [{"name": "eth0", "mac_address": "52:54:00:00:00:01",
                    "ipv4_address": "192.168.24.100"},
                   {"name": "eth1", "mac_address": "52:54:00:00:00:02",
                    "ipv4_address": None}],
    "system_vendor": {"manufacturer": "QEMU", "product_name": "Standard PC",
                      "serial_number": ""},
    "boot": {"current_boot_mode": "bios", "pxe_interface": "52:54:00:00:00:01"},
    "bmc_address": None,
}
