"""A service's models keep OpenStack ids, JSON columns and timestamps on both databases."""
import datetime
import re
import time

import peewee
import pytest

from undercloud import db


class Flavor(db.TimestampedModel):
    name = peewee.CharField()
    extra_specs = db.JSONField(default=dict)
    properties = db.JSONField(null=True)


@pytest.fixture
def flavors(cfg):
    db.connect(cfg)
    db.database.create_tables([Flavor])
    return Flavor


def test_new_rows_get_32_hex_uuid_ids(flavors):
    created = flavors.create(name="m1.small")
    saved = flavors(name="m1.tiny")
    saved.save()

    assert re.fullmatch(r"[0-9a-f]{32}", created.id)
    assert re.fullmatch(r"[0-9a-f]{32}", saved.id)
    assert created.id != saved.id
    assert {f.name for f in flavors.select()} == {"m1.small", "m1.tiny"}


def test_an_explicit_id_is_kept(flavors):
    flavors.create(id="default", name="m1.small")
    flavors(id="4b2b1c7e-9d0a-4a8e-9d6b-2f1f7f0c9a11", name="m1.tiny").save()

    assert flavors.get_by_id("default").name == "m1.small"
    assert flavors.get_by_id("4b2b1c7e-9d0a-4a8e-9d6b-2f1f7f0c9a11").name == "m1.tiny"


def test_saving_a_stored_row_updates_it(flavors):
    flavor = flavors.create(name="m1.small")
    flavor.name = "m1.medium"
    flavor.save()
    loaded = flavors.get_by_id(flavor.id)
    loaded.name = "m1.large"
    loaded.save()

    assert [f.name for f in flavors.select()] == ["m1.large"]


def test_json_field_round_trips_python_values(flavors):
    specs = {"hw:cpu_policy": "dedicated", "sizes": [1, 2.5, None], "nested": {"ok": True},
             "unicode": "žluťoučký"}
    flavor = flavors.create(name="m1.small", extra_specs=specs)
    empty = flavors.create(name="m1.tiny")
    listed = flavors.create(name="m1.list", properties=["a", "b"])

    assert flavors.get_by_id(flavor.id).extra_specs == specs
    assert flavors.get_by_id(empty.id).extra_specs == {}
    assert flavors.get_by_id(empty.id).properties is None
    assert flavors.get_by_id(listed.id).properties == ["a", "b"]


def test_timestamps_are_naive_utc_and_updated_on_save(flavors):
    before = db.utcnow()
    flavor = flavors.create(name="m1.small")
    loaded = flavors.get_by_id(flavor.id)

    assert loaded.created_at.tzinfo is None
    assert loaded.created_at == loaded.updated_at
    assert before <= loaded.created_at <= db.utcnow()
    assert abs(loaded.created_at - datetime.datetime.utcnow()) < datetime.timedelta(minutes=1)

    time.sleep(0.01)
    loaded.name = "m1.medium"
    loaded.save()
    reloaded = flavors.get_by_id(flavor.id)

    assert reloaded.created_at == flavor.created_at
    assert reloaded.updated_at > reloaded.created_at


def test_saving_only_some_fields_still_refreshes_updated_at(flavors):
    flavor = flavors.create(name="m1.small")
    time.sleep(0.01)
    flavor.name = "m1.medium"
    flavor.save(only=[flavors.name])

    assert flavors.get_by_id(flavor.id).updated_at > flavor.created_at


def test_a_write_transaction_rolls_back_on_error(flavors):
    with pytest.raises(RuntimeError):
        with db.transaction():
            flavors.create(name="m1.small")
            raise RuntimeError("boom")
    with db.transaction():
        flavors.create(name="m1.tiny")

    assert [f.name for f in flavors.select()] == ["m1.tiny"]
