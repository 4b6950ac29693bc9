"""First-start and every-start preparation: folders, schema migrations, service bootstrap."""
import importlib
import logging

from undercloud import db
from undercloud import services as registry

LOG = logging.getLogger(__name__)


def _bootstrap_module(service):
    name = f"undercloud.{service.name}.bootstrap"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # A service hosted by another's folder (metadata, in compute/) has no package.
        if exc.name not in (name, f"undercloud.{service.name}"):
            raise
        return None


def database(config) -> list[str]:
    """Migrate every enabled service's schema, then let each bootstrap its defaults; returns
    a line per migration applied."""
    enabled = registry.enabled(config["services"])
    applied = []
    db.connect(config)
    try:
        for service, version, name in db.migrate(config, [s.name for s in enabled]):
            applied.append(f"migrated {service} schema to version {version} ({name})")
            LOG.info("%s", applied[-1])
        for service in enabled:
            module = _bootstrap_module(service)
            if module is not None:
                module.bootstrap(config)
    finally:
        db.database.close()
    return applied
