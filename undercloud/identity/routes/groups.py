"""Identity routes: groups."""
from flask import Blueprint

blueprint = Blueprint("identity_groups", __name__)
