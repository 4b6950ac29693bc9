"""First start: the default flavors (Nova's classic m1.* plus m1.nano for tiny guests).

They are added only while no flavor exists, so a default an admin deleted stays deleted."""
import logging

from undercloud import db
from undercloud.compute.models import Flavor

LOG = logging.getLogger(__name__)

# (flavorid, name, vcpus, memory_mb, root_gb): Nova's legacy defaults and a nano for test guests.
DEFAULT_FLAVORS = [
    ("0", "m1.nano", 1, 128, 1),
    ("1", "m1.tiny", 1, 512, 1),
    ("2", "m1.small", 1, 2048, 20),
    ("3", "m1.medium", 2, 4096, 40),
    ("4", "m1.large", 4, 8192, 80),
    ("5", "m1.xlarge", 8, 16384, 160),
    ("42", "m1.micro", 1, 192, 1),
]


def bootstrap(config):
    with db.transaction():
        if Flavor.select().exists():
            return
        for flavorid, name, vcpus, memory_mb, root_gb in DEFAULT_FLAVORS:
            Flavor.create(flavorid=flavorid, name=name, vcpus=vcpus, memory_mb=memory_mb,
                          root_gb=root_gb)
            LOG.info("created default flavor %s", name)
