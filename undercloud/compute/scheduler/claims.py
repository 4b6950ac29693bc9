"""Atomic resource claims: a conditional UPDATE on ComputeNode plus a Claim row, in one
short transaction, so two schedulers racing for the last slot never both win."""
import logging

from undercloud import db
from undercloud.compute.models import Claim, ComputeNode
from undercloud.compute.scheduler.hoststate import Limits

LOG = logging.getLogger(__name__)


def claim(node_id: str, instance_id: str, vcpus: int, memory_mb: int, disk_gb: int,
          limits: Limits) -> bool:
    """Reserve the resources on the node; False when they no longer fit."""
    with db.transaction():
        updated = (ComputeNode.update(
            vcpus_used=ComputeNode.vcpus_used + vcpus,
            memory_mb_used=ComputeNode.memory_mb_used + memory_mb,
            local_gb_used=ComputeNode.local_gb_used + disk_gb)
            .where(ComputeNode.id == node_id,
                   ComputeNode.memory_mb_used + memory_mb
                   <= ComputeNode.memory_mb * limits.ram_ratio - limits.reserved_memory_mb,
                   ComputeNode.vcpus_used + vcpus
                   <= ComputeNode.vcpus * limits.cpu_ratio - limits.reserved_cpus,
                   ComputeNode.local_gb_used + disk_gb
                   <= ComputeNode.local_gb * limits.disk_ratio - limits.reserved_disk_gb)
            .execute())
        if updated != 1:
            return False
        Claim.create(instance_id=instance_id, node=node_id, vcpus=vcpus, memory_mb=memory_mb,
                     disk_gb=disk_gb)
    return True


def _release(claim_row: Claim) -> None:
    """Give one claim's resources back (inside the caller's transaction)."""
    if Claim.delete().where(Claim.id == claim_row.id).execute() != 1:
        return  # another process released it first
    (ComputeNode.update(
        vcpus_used=ComputeNode.vcpus_used - claim_row.vcpus,
        memory_mb_used=ComputeNode.memory_mb_used - claim_row.memory_mb,
        local_gb_used=ComputeNode.local_gb_used - claim_row.disk_gb)
        .where(ComputeNode.id == claim_row.node_id).execute())


def release(instance_id: str, keep_latest: bool = False, only_latest: bool = False) -> int:
    """Release an instance's claims (all, all but the newest, or only the newest)."""
    with db.transaction():
        rows = list(Claim.select().where(Claim.instance_id == instance_id)
                    .order_by(Claim.created_at, Claim.id))
        if keep_latest:
            rows = rows[:-1]
        elif only_latest:
            rows = rows[-1:]
        for row in rows:
            _release(row)
    if rows:
        LOG.info("released %d claim(s) of instance %s", len(rows), instance_id)
    return len(rows)


def replace(instance_id: str, node_id: str, vcpus: int, memory_mb: int, disk_gb: int) -> None:
    """Swap an instance's claims for one of this size (a confirmed resize never grows past
    what its claims already held, so this needs no capacity check)."""
    with db.transaction():
        for row in Claim.select().where(Claim.instance_id == instance_id):
            _release(row)
        (ComputeNode.update(vcpus_used=ComputeNode.vcpus_used + vcpus,
                            memory_mb_used=ComputeNode.memory_mb_used + memory_mb,
                            local_gb_used=ComputeNode.local_gb_used + disk_gb)
         .where(ComputeNode.id == node_id).execute())
        Claim.create(instance_id=instance_id, node=node_id, vcpus=vcpus, memory_mb=memory_mb,
                     disk_gb=disk_gb)


def held(instance_id: str) -> list[Claim]:
    return list(Claim.select().where(Claim.instance_id == instance_id)
                .order_by(Claim.created_at, Claim.id))
