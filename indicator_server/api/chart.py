"""(being built: issue 7)"""

from __future__ import annotations

from . import Blueprint

blp = Blueprint("chart", __name__)
