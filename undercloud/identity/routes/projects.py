"""Identity routes: projects."""
from flask import Blueprint

blueprint = Blueprint("identity_projects", __name__)
