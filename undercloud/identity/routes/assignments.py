"""Identity routes: assignments."""
from flask import Blueprint

blueprint = Blueprint("identity_assignments", __name__)
