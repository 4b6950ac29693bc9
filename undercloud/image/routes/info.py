"""Discovery routes: /v2/info/import (import methods), /v2/info/usage (quotas), stores."""
from flask import Blueprint, current_app, g

from undercloud.common import errors
from undercloud.image import lifecycle, policy, quotas

blueprint = Blueprint("image_info", __name__)


@blueprint.get("/v2/info/import")
def import_info():
    return {"import-methods": {"description": "Import methods available.", "type": "array",
                               "value": list(lifecycle.IMPORT_METHODS)}}


@blueprint.get("/v2/info/usage")
def usage_info():
    policy.enforce("get_usage")
    return quotas.usage(current_app.config["STACKBOX"], g.context.project_id)


@blueprint.get("/v2/info/stores")
def stores_info():
    # Glance answers so when it runs one store without multi-store configuration.
    raise errors.NotFound("Multi backend is not supported at this site.")
