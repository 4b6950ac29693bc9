"""Identity routes: roles."""
from flask import Blueprint

blueprint = Blueprint("identity_roles", __name__)
