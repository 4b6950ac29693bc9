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


def database(config):
    """Migrate every enabled service's schema, then let each bootstrap its defaults."""
    enabled = registry.enabled(config["services"])
    db.connect(config)
    try:
        for service, version, name in db.migrate(config, [s.name for s in enabled]):
            LOG.info("migrated %s schema to version %d (%s)", service, version, name)
        for service in enabled:
            module = _bootstrap_module(service)
            if module is not None:
                module.bootstrap(config)
    finally:
        db.database.close()
