"""Identity routes: users."""
from flask import Blueprint

blueprint = Blueprint("identity_users", __name__)
