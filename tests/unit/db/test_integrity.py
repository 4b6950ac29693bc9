"""A failed write says which unique rule it broke, on SQLite and PostgreSQL alike, and a
broken foreign key is never mistaken for one."""
import peewee
import pytest

from undercloud import db


class Shelf(db.BaseModel):
    name = peewee.CharField(unique=True)


class Book(db.BaseModel):
    shelf = peewee.ForeignKeyField(Shelf)
    isbn = peewee.CharField()
    title = peewee.CharField(null=True)

    class Meta:
        indexes = ((("shelf", "isbn"), True),)


@pytest.fixture
def shelf(cfg):
    db.connect(cfg)
    db.database.create_tables([Shelf, Book])
    return Shelf.create(name="fiction")


def _error(write) -> peewee.IntegrityError:
    with pytest.raises(peewee.IntegrityError) as caught:
        with db.transaction():
            write()
    return caught.value


def test_a_two_column_index_names_both_columns(shelf):
    Book.create(shelf=shelf, isbn="0-306-40615-2")

    error = _error(lambda: Book.create(shelf=shelf, isbn="0-306-40615-2"))

    assert db.unique_columns(error) == ("shelf_id", "isbn")


def test_a_unique_column_and_a_primary_key_are_named(shelf):
    assert db.unique_columns(_error(lambda: Shelf.create(name="fiction"))) == ("name",)
    assert db.unique_columns(_error(lambda: Shelf.create(id=shelf.id, name="poetry"))) == ("id",)


def test_other_integrity_errors_name_no_columns(shelf):
    missing_shelf = _error(lambda: Book.create(shelf="no-such-shelf", isbn="1"))
    no_isbn = _error(lambda: Book.insert(shelf=shelf.id, isbn=None).execute())

    assert db.unique_columns(missing_shelf) is None
    assert db.unique_columns(no_isbn) is None
