"""Keeping nodes in line with the DB, at start and every few seconds:

- nodes a dead conductor held (this host's at its start, or a host whose heartbeat stopped):
  in a busy state they fail with "conductor restarted during <state>", powered off; every
  reservation of theirs is released, so all can be retried;
- a waiting state lasts until its timeout, counted from provision_updated_at: then the node
  is powered off and fails;
- a busy state nobody holds long after the API recorded it means the request never reached a
  conductor: it is carried out now (a deploy, whose user token is gone, fails asking for a
  new one).
"""
import datetime
import logging

from undercloud import db
from undercloud.baremetal import locks, states
from undercloud.baremetal.flows import boot, nodes
from undercloud.baremetal.models import Conductor, Node

LOG = logging.getLogger("undercloud.baremetal.conductor")
BUSY = (states.VERIFYING, states.INSPECTING, states.CLEANING, states.DEPLOYING,
        states.DELETING)
# How long a request may sit recorded before its cast counts as lost.
LOST_REQUEST_SECONDS = 60
TIMEOUT_MESSAGES = {
    states.DEPLOY_WAIT: "Timeout reached while waiting for callback for node {node}",
    states.CLEAN_WAIT: "Timeout reached while cleaning node {node}: the ramdisk did not "
                       "finish erase_devices within {seconds} s",
    states.INSPECT_WAIT: "Timeout reached while inspecting node {node}: no inventory came "
                         "back within {seconds} s",
}


def wait_limits(config) -> dict[str, int]:
    section = config["baremetal"]
    return {states.INSPECT_WAIT: section["inspect_timeout"],
            states.CLEAN_WAIT: section["deploy_callback_timeout"],
            states.DEPLOY_WAIT: section["deploy_callback_timeout"]}


def dead_hosts(host: str, down_seconds: float) -> list[str]:
    """Conductors other than `host` whose heartbeat is older than down_seconds."""
    oldest = db.utcnow() - datetime.timedelta(seconds=down_seconds)
    return [row.hostname for row in Conductor.select(Conductor.hostname).where(
        Conductor.hostname != host, Conductor.updated_at < oldest)]


def take_over(conductor, hosts: list[str]) -> list[str]:
    """Fail the busy nodes `hosts` held and release all their reservations; powers the
    failed ones off in the background. Returns the failed nodes' ids."""
    held = list(Node.select().where(Node.reservation.in_(hosts))) if hosts else []
    failed = []
    for node in held:
        if node.provision_state in BUSY and nodes.fail(
                node.id, node.provision_state,
                f"conductor restarted during {node.provision_state}") is not None:
            failed.append((node.id, node.provision_state))
        with db.transaction():
            Node.update(reservation=None).where(Node.id == node.id,
                                                Node.reservation == node.reservation).execute()
    for node_id, state in failed:
        if state != states.VERIFYING and locks.try_reserve(node_id, conductor.host):
            conductor.submit_reserved(node_id, boot.stop_ramdisk, conductor, node_id,
                                      state == states.DEPLOYING)
    return [node_id for node_id, _ in failed]


def check_timeouts(conductor) -> list[str]:
    """Fail the waiting nodes whose time is up; returns their ids."""
    limits = wait_limits(conductor.config)
    now = db.utcnow()
    expired = []
    for node in Node.select().where(Node.provision_state.in_(states.WAITING),
                                    Node.reservation.is_null()):
        since = node.provision_updated_at or node.updated_at
        limit = limits[node.provision_state]
        if since is None or (now - since).total_seconds() < limit:
            continue
        if locks.try_reserve(node.id, conductor.host):
            message = TIMEOUT_MESSAGES[node.provision_state].format(node=node.id,
                                                                    seconds=limit)
            conductor.submit_reserved(node.id, boot.give_up, conductor, node.id,
                                      node.provision_state, message)
            expired.append(node.id)
    return expired


def lost_requests(conductor, flows: dict) -> list[str]:
    """Carry out the busy nodes' requests no conductor took; `flows` maps a busy state to
    its flow. Returns the node ids."""
    oldest = db.utcnow() - datetime.timedelta(seconds=LOST_REQUEST_SECONDS)
    found = []
    for node in Node.select().where(Node.provision_state.in_(BUSY),
                                    Node.reservation.is_null(),
                                    Node.provision_updated_at < oldest):
        if not locks.try_reserve(node.id, conductor.host):
            continue
        LOG.warning("node %s: its %s request reached no conductor; carrying it out now",
                    node.id, node.provision_state)
        conductor.submit_reserved(node.id, flows[node.provision_state], conductor, node.id,
                                  {}, {})
        found.append(node.id)
    return found
