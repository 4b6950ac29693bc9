"""What a (re)starting conductor finds in the DB, and what it does with it."""
import datetime

from undercloud import db
from undercloud.baremetal import locks, states
from undercloud.baremetal.models import Conductor
from tests.unit.baremetal.conductor.fakes import HOST, make_node, reload


def _ago(seconds):
    return db.utcnow() - datetime.timedelta(seconds=seconds)


def test_restart_fails_the_nodes_it_was_working_on(conductor, bmc):
    node = make_node(states.DEPLOYING, states.ACTIVE, reservation=HOST, power_state="power on")
    bmc.power = "power on"
    conductor.reconcile()
    node = reload(node)
    assert node.provision_state == "deploy failed"
    assert node.last_error == "conductor restarted during deploying"
    assert node.reservation is None and node.power_state == "power off"


def test_restart_releases_waiting_nodes_and_they_keep_waiting(conductor):
    node = make_node(states.CLEAN_WAIT, states.AVAILABLE, reservation=HOST)
    conductor.reconcile()
    node = reload(node)
    assert (node.provision_state, node.reservation) == ("clean wait", None)


def test_restart_during_verifying_goes_back_to_enroll(conductor, bmc):
    node = make_node(states.VERIFYING, states.MANAGEABLE, reservation=HOST)
    conductor.reconcile()
    node = reload(node)
    assert (node.provision_state, node.last_error) == (
        "enroll", "conductor restarted during verifying")
    assert ("set_power", "power off") not in bmc.calls


def test_conductor_records_itself(conductor):
    conductor.reconcile()
    row = Conductor.get(Conductor.hostname == HOST)
    assert row.online and row.drivers == ["ipmi"]


def test_a_dead_conductors_nodes_are_taken_over(conductor):
    Conductor.create(hostname="gone", drivers=["ipmi"], updated_at=_ago(3600))
    node = make_node(states.CLEANING, states.AVAILABLE, reservation="gone")
    conductor.reconcile()
    node = reload(node)
    assert (node.provision_state, node.last_error) == (
        "clean failed", "conductor restarted during cleaning")
    assert node.reservation is None


def test_a_live_conductors_nodes_are_left_alone(conductor):
    Conductor.create(hostname="alive", drivers=["ipmi"], updated_at=db.utcnow())
    node = make_node(states.CLEANING, states.AVAILABLE, reservation="alive")
    conductor.reconcile()
    assert reload(node).provision_state == "cleaning"


def test_a_request_no_conductor_took_is_carried_out(conductor, bmc):
    node = make_node(states.VERIFYING, states.MANAGEABLE, provision_updated_at=_ago(600))
    conductor.reconcile()
    assert reload(node).provision_state == "manageable"


def test_a_lost_deploy_asks_for_a_new_request(conductor):
    node = make_node(states.DEPLOYING, states.ACTIVE, provision_updated_at=_ago(600),
                     instance_info={"image_source": "img"})
    conductor.reconcile()
    node = reload(node)
    assert node.provision_state == "deploy failed"
    assert "carried no token" in node.last_error


def test_waiting_is_not_cut_short(conductor):
    node = make_node(states.DEPLOY_WAIT, states.ACTIVE, provision_updated_at=_ago(30))
    conductor.reconcile()
    assert reload(node).provision_state == "wait call-back"


def test_reservation_is_exclusive_until_released(cfg):
    node = make_node(states.MANAGEABLE, macs=())
    assert locks.try_reserve(node.id, "a")
    assert not locks.try_reserve(node.id, "b")
    locks.release(node.id, "b")
    assert reload(node).reservation == "a"
    locks.release(node.id, "a")
    assert locks.try_reserve(node.id, "b")
