"""The configuration file, environment overrides and their errors."""
import pytest

from undercloud.common import config


def load(tmp_path, text=None, environ=None, **overrides):
    path = None
    if text is not None:
        path = tmp_path / "stackbox.yaml"
        path.write_text(text)
    return config.load(str(path) if path else None, environ=environ or {},
                       overrides={"data_dir": str(tmp_path), **overrides})


def test_defaults_are_the_openstack_ports(tmp_path):
    cfg = load(tmp_path)
    assert cfg.port("identity") == 5000 and cfg.port("compute") == 8774
    assert cfg.port("image") == 9292 and cfg.port("baremetal") == 6385
    assert cfg.bind == "127.0.0.1"
    assert cfg.database_url == f"sqlite:///{tmp_path}/stackbox.db"


def test_file_then_environment_then_flags(tmp_path):
    cfg = load(tmp_path, "bus: {port: 7000}\nports: {identity: 15000}\n",
               environ={"STACKBOX_BUS__PORT": "7100", "STACKBOX_SERVICES": "identity,image"},
               bind="0.0.0.0")
    assert cfg.bus.port == 7100
    assert cfg.port("identity") == 15000
    assert cfg.services == ["identity", "image"]
    assert cfg.bind == "0.0.0.0" and cfg.host == "127.0.0.1"


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(config.ConfigError, match="unknown configuration key 'databse'"):
        load(tmp_path, "databse: {url: x}\n")
    with pytest.raises(config.ConfigError, match="'bus.prot'"):
        load(tmp_path, "bus: {prot: 1}\n")


def test_bad_value_is_named(tmp_path):
    with pytest.raises(config.ConfigError, match="ports.identity: 70000"):
        load(tmp_path, "ports: {identity: 70000}\n")
    with pytest.raises(config.ConfigError, match="bus.port: 'x'"):
        load(tmp_path, environ={"STACKBOX_BUS__PORT": "x"})


def test_unknown_environment_key_is_named(tmp_path):
    with pytest.raises(config.ConfigError, match="STACKBOX_DATABSE__URL"):
        load(tmp_path, environ={"STACKBOX_DATABSE__URL": "sqlite://"})


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(config.ConfigError, match="cannot read configuration file"):
        config.load(str(tmp_path / "missing.yaml"), environ={})
    with pytest.raises(config.ConfigError, match="not valid YAML"):
        load(tmp_path, "bus: [\n")


def test_curve_is_on_for_any_non_loopback_bind(tmp_path):
    assert load(tmp_path).curve_enabled is False
    assert load(tmp_path, bind="0.0.0.0").curve_enabled is True
    assert load(tmp_path, environ={"STACKBOX_BUS__CURVE": "true"}).curve_enabled is True


def test_children_read_the_same_config(tmp_path):
    cfg = load(tmp_path)
    assert config.from_json(cfg.to_json()) == cfg
