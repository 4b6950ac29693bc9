"""Identity routes: catalog."""
from flask import Blueprint

blueprint = Blueprint("identity_catalog", __name__)
