"""The token key repository: Keystone's layout, rotation, pruning, and reload on change."""
import os

import pytest
from cryptography.fernet import Fernet, InvalidToken

from undercloud.identity import keys


@pytest.fixture
def repository(tmp_path):
    directory = str(tmp_path / "token-keys")
    assert keys.initialize(directory)
    return directory


def read(directory, number):
    with open(os.path.join(directory, str(number)), "rb") as stream:
        return stream.read()


def test_a_new_repository_has_a_staged_and_a_primary_key(repository):
    assert sorted(keys.key_files(repository)) == [0, 1]
    assert keys.load(repository) == [read(repository, 1), read(repository, 0)]
    assert not keys.initialize(repository)  # only once
    assert oct(os.stat(os.path.join(repository, "1")).st_mode & 0o777) == "0o600"


def test_rotation_promotes_the_staged_key_and_stages_a_new_one(repository):
    staged = read(repository, 0)
    assert keys.rotate(repository) == 2
    assert read(repository, 2) == staged
    assert read(repository, 0) != staged
    assert sorted(keys.key_files(repository)) == [0, 1, 2]
    # Primary first, then secondaries newest first, the staged key last.
    assert keys.load(repository) == [read(repository, n) for n in (2, 1, 0)]


def test_rotation_prunes_to_max_active_keys(repository):
    for _ in range(4):
        keys.rotate(repository)
    assert sorted(keys.key_files(repository)) == [0, 4, 5]
    keys.rotate(repository, max_active_keys=5)
    assert sorted(keys.key_files(repository)) == [0, 4, 5, 6]
    keys.rotate(repository, max_active_keys=2)
    assert sorted(keys.key_files(repository)) == [0, 7]
    with pytest.raises(ValueError):
        keys.rotate(repository, max_active_keys=1)


def test_a_token_outlives_one_rotation_and_dies_when_its_key_is_pruned(repository):
    token = Fernet(keys.load(repository)[0]).encrypt(b"payload")
    keys.rotate(repository)
    ring = keys.KeyRing(repository)
    assert ring.fernet().decrypt(token) == b"payload"
    keys.rotate(repository)   # key 1, which made the token, is pruned
    with pytest.raises(InvalidToken):
        keys.KeyRing(repository).fernet().decrypt(token)


def test_the_staged_key_already_decrypts(repository):
    # Another node may have promoted its copy of our staged key before we rotate.
    token = Fernet(read(repository, 0)).encrypt(b"early")
    assert keys.KeyRing(repository).fernet().decrypt(token) == b"early"


def test_a_key_ring_notices_a_rotation(repository, monkeypatch):
    monkeypatch.setattr(keys, "CHECK_SECONDS", 0)
    ring = keys.KeyRing(repository)
    before = ring.fernet().encrypt(b"x")
    keys.rotate(repository)
    after = ring.fernet().encrypt(b"x")
    # The new primary (the old staged key) made it; the old primary still decrypts.
    assert Fernet(read(repository, 2)).decrypt(after) == b"x"
    assert ring.fernet().decrypt(before) == b"x"


def test_temp_and_lock_files_are_not_keys(repository):
    for name in (".lock", ".tmp-abc", ".staged", "README"):
        with open(os.path.join(repository, name), "w") as stream:
            stream.write("not a key")
    assert sorted(keys.key_files(repository)) == [0, 1]


def test_an_empty_repository_says_where_it_is(tmp_path):
    with pytest.raises(keys.NoKeys, match=str(tmp_path)):
        keys.load(str(tmp_path))
    with pytest.raises(keys.NoKeys, match="does not exist"):
        keys.KeyRing(str(tmp_path / "missing")).fernet()


def test_rotation_of_a_hand_made_repository_without_a_staged_key(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    (directory / "1").write_bytes(Fernet.generate_key())
    assert keys.rotate(str(directory)) == 2
    assert sorted(keys.key_files(str(directory))) == [0, 1, 2]
    assert len(keys.load(str(directory))) == 3
