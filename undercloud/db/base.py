"""The database handle every model uses, and the base models with ids and timestamps."""
import peewee

from undercloud.db.fields import new_id, utcnow

# Bound by connect(cfg); models are declared before any database is chosen.
database = peewee.DatabaseProxy()


def legacy_table_name(model) -> str:
    """The table name a model had before tables carried their service's prefix."""
    return peewee.make_snake_case(model.__name__)


def table_name(model) -> str:
    """<service>_<model in snake case>: each service's tables are its own (network_port and
    baremetal_port never meet), whatever its models are called."""
    parts = model.__module__.split(".")
    # undercloud.<service>.models; models declared elsewhere (tests) keep the plain name.
    prefix = f"{parts[1]}_" if len(parts) > 2 and parts[0] == "undercloud" else ""
    return prefix + legacy_table_name(model)


class BaseModel(peewee.Model):
    """A row with an OpenStack id: 32 hex digits by default, or any id given (e.g. "default")."""

    id = peewee.CharField(primary_key=True, max_length=64, default=new_id)

    class Meta:
        database = database
        table_function = table_name
        legacy_table_names = False  # index names start with the table's: network_port_name

    def __init__(self, *args, **kwargs):
        # Rows read from the database arrive with __no_default__; anything else is new.
        self._stored = bool(kwargs.get("__no_default__"))
        super().__init__(*args, **kwargs)

    def save(self, force_insert=False, only=None):
        # The id is set before the row exists, so peewee alone would UPDATE nothing.
        rows = super().save(force_insert=force_insert or not self._stored, only=only)
        self._stored = True
        return rows

    @classmethod
    def bulk_create(cls, model_list, batch_size=None):
        super().bulk_create(model_list, batch_size=batch_size)
        for model in model_list:
            model._stored = True


class TimestampedModel(BaseModel):
    """A row that remembers when it was created and last saved (naive UTC)."""

    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    def save(self, force_insert=False, only=None):
        if force_insert or not self._stored:
            self.updated_at = self.created_at  # a new row was created and updated at once
        else:
            self.updated_at = utcnow()
            if only is not None:
                only = [*only, type(self).updated_at]
        return super().save(force_insert=force_insert, only=only)
