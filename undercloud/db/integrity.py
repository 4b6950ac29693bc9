"""Telling which rule a failed write broke, from SQLite's or PostgreSQL's own message."""
import re

import peewee

# SQLite: "UNIQUE constraint failed: network_port.network_id, network_port.mac_address"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
# PostgreSQL: 'duplicate key value violates unique constraint "..." DETAIL: Key (a, b)=(...)'
_POSTGRES_KEY = re.compile(r"Key \(([^)]*)\)=")


def unique_columns(error: peewee.IntegrityError) -> tuple[str, ...] | None:
    """The columns of the unique index or key the write collided with; None when the error is
    another kind (a foreign key, a NOT NULL)."""
    message = str(error)
    match = _SQLITE_UNIQUE.search(message)
    if match:
        return tuple(part.strip().rsplit(".", 1)[-1] for part in match.group(1).split(","))
    if "duplicate key value" in message:
        match = _POSTGRES_KEY.search(message)
        return tuple(part.strip().strip('"') for part in match.group(1).split(",")) \
            if match else ()
    return None
