"""The policy engine reads oslo.policy's rule language."""
import pytest

from undercloud.common.context import RequestContext
from undercloud.common.errors import Forbidden
from undercloud.common.policy import Enforcer, PolicyError

RULES = {
    "admin_required": "role:admin",
    "owner": "project_id:%(project_id)s",
    "identity:get_project": "rule:admin_required or (role:reader and rule:owner)",
    "identity:get_user": "rule:admin_required or user_id:%(id)s",
    "identity:anyone": "@",
    "identity:nobody": "!",
    "identity:not_member": "not role:member",
    "identity:system": "role:admin and system_scope:all",
}


def creds(**kwargs):
    return RequestContext(**kwargs).credentials()


def test_admin_may_do_everything_it_is_granted():
    policy = Enforcer(RULES)
    assert policy.allowed("identity:get_project", creds(roles=["admin"]), {"project_id": "b"})


def test_reader_only_in_its_own_project():
    policy = Enforcer(RULES)
    reader = creds(roles=["reader"], project_id="a")
    assert policy.allowed("identity:get_project", reader, {"project_id": "a"})
    assert not policy.allowed("identity:get_project", reader, {"project_id": "b"})
    assert not policy.allowed("identity:get_project", reader, {})


def test_literals_not_and_constants():
    policy = Enforcer(RULES)
    assert policy.allowed("identity:get_user", creds(user_id="u1"), {"id": "u1"})
    assert policy.allowed("identity:anyone", creds(), {})
    assert not policy.allowed("identity:nobody", creds(roles=["admin"]), {})
    assert policy.allowed("identity:not_member", creds(roles=["reader"]), {})
    assert policy.allowed("identity:system", creds(roles=["admin"], system_scope="all"), {})
    assert not policy.allowed("identity:system", creds(roles=["admin"], project_id="p"), {})


def test_overrides_replace_defaults():
    policy = Enforcer(RULES, {"identity:nobody": "role:member"})
    assert policy.allowed("identity:nobody", creds(roles=["member"]), {})


def test_bad_rules_fail_at_load():
    with pytest.raises(PolicyError):
        Enforcer({"x": "role:admin or ("})
    with pytest.raises(PolicyError):
        Enforcer({"x": "admin"})


def test_enforce_names_the_action():
    with pytest.raises(Forbidden, match="identity:nobody"):
        Enforcer(RULES).enforce("identity:nobody", {}, RequestContext(roles=["admin"]))
