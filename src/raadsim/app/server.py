"""``create_app()``: the Dash app of the explorer (``raadsim app`` runs it)."""

from __future__ import annotations

from dash import Dash

from .._version import __version__
from .callbacks import register
from .layout import page


def create_app() -> Dash:
    """The explorer's Dash app (assets served locally: no network needed)."""
    app = Dash(__name__, title=f"raadsim {__version__} explorer", serve_locally=True,
               update_title=None)
    app.layout = page()
    register(app)
    return app
