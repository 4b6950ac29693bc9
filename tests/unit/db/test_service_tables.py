"""Each service's tables are its own: one naming rule for every service's models, and after
migrating every service (in either order) each index sits on columns its own table has."""
import collections

import pytest

from tests.fixtures import schema
from undercloud import db, services as registry


def test_no_two_models_share_a_table():
    owners = collections.defaultdict(list)
    for service, models in schema.service_models().items():
        for model in models:
            owners[model._meta.table_name].append(f"{service}.{model.__name__}")

    shared = {table: names for table, names in owners.items() if len(names) > 1}
    assert not shared, f"tables claimed by more than one model: {shared}"


def test_every_table_carries_its_service_name():
    for service, models in schema.service_models().items():
        for model in models:
            assert model._meta.table_name.startswith(f"{service}_"), (service, model)


def test_every_model_of_a_service_is_migrated():
    for service, models in schema.service_models().items():
        module = __import__(f"undercloud.{service}.models", fromlist=["TABLES"])
        declared = {value for value in vars(module).values()
                    if isinstance(value, type) and issubclass(value, db.BaseModel)
                    and value.__module__ == module.__name__}
        bases = {base for model in declared for base in model.__mro__[1:]}
        assert declared - bases == set(models), f"{service}: models missing from TABLES"


@pytest.mark.parametrize("order", ["registry", "reversed"])
def test_after_migrating_every_service_each_index_names_its_own_columns(cfg, order):
    services = list(registry.SERVICES)
    db.migrate(cfg, services if order == "registry" else services[::-1])

    database = db.database.obj
    assert schema.misplaced_indexes(database) == []
    every_model = [m for models in schema.service_models().values() for m in models]
    assert schema.missing_indexes(database, every_model) == []
    assert {m._meta.table_name for m in every_model} <= set(database.get_tables())
