"""``python -m raadsim``: the command-line interface."""

from .cli import app

app(prog_name="raadsim")
