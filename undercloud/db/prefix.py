"""Moving a service's tables from their old plain names to <service>_<name>.

Before tables carried their service's prefix, two services could claim one name: network
and bare metal both made `port`, so whichever migrated second found the other's table, made
nothing, and put its indexes on the other's columns (SQLite even takes a quoted name that is
no column as a string). So a table is moved only when its columns are the model's, every
index on it is dropped (ours, and any that another service misplaced there) and the model's
own indexes are made again under their new names.
"""
import logging

import peewee

from undercloud.db.base import legacy_table_name
from undercloud.db.migrations import MigrationError

log = logging.getLogger(__name__)


def _plain_indexes(db, table: str) -> list[str]:
    """The indexes made by CREATE INDEX on table (not those behind a key or constraint)."""
    if isinstance(db, peewee.PostgresqlDatabase):
        cursor = db.execute_sql(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = %s "
            "AND t.relnamespace = 'public'::regnamespace AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            (table,))
    else:
        cursor = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index' "
                                "AND tbl_name = ? AND sql IS NOT NULL", (table,))
    return [row[0] for row in cursor.fetchall()]


def _columns(db, table: str) -> set[str]:
    return {column.name for column in db.get_columns(table)}


def _owns(db, model, table: str) -> bool:
    # Later migrations may add columns to the model, never to an old table.
    return _columns(db, table) <= {field.column_name for field in model._meta.sorted_fields}


def _wrong_references(db, model) -> list[str]:
    """Foreign keys of model's table that point at a table other than the model says."""
    wanted = {field.column_name: field.rel_model._meta.table_name
              for field in model._meta.sorted_fields
              if isinstance(field, peewee.ForeignKeyField)}
    return [f"{key.column} -> {key.dest_table}"
            for key in db.get_foreign_keys(model._meta.table_name)
            if key.column in wanted and key.dest_table != wanted[key.column]]


def _make(db, model):
    model._schema.create_table(safe=True)
    model._schema.create_indexes(safe=True)


def prefix_tables(models):
    """A migration step that moves each model's table from its plain name to its prefixed one."""
    return lambda db: _move(db, models)


def _move(db, models):
    with db.bind_ctx(models):
        for model in models:
            old, new = legacy_table_name(model), model._meta.table_name
            if db.table_exists(new):
                continue  # made under the new name (a new database) or moved already
            if db.table_exists(old) and _owns(db, model, old):
                for index in _plain_indexes(db, old):
                    db.execute_sql(f'DROP INDEX "{index}"')
                db.execute_sql(f'ALTER TABLE "{old}" RENAME TO "{new}"')
                model._schema.create_indexes(safe=True)
                log.info("moved table %s to %s", old, new)
            else:
                # Never made (another service had the name first), or another service's.
                _make(db, model)
                log.info("made table %s (%s was %s)", new, old,
                         "another service's" if db.table_exists(old) else "missing")
        for model in models:
            # SQLite rewrites references when a table is renamed, so a table that pointed at
            # the other service's `port` now points at that service's new name: remake it.
            wrong = _wrong_references(db, model)
            if not wrong:
                continue
            if model.select().exists():
                raise MigrationError(f"table {model._meta.table_name} has rows and foreign "
                                     f"keys to another service's table: {', '.join(wrong)}")
            model._schema.drop_table()
            _make(db, model)
            log.info("remade empty table %s (its keys pointed at %s)", model._meta.table_name,
                     ", ".join(wrong))
