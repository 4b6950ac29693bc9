"""Identity routes: auth."""
from flask import Blueprint

blueprint = Blueprint("identity_auth", __name__)
