"""raadsim: multiscale simulation of rapid-acting antidepressants.

Quick use::

    from raadsim import load_scenario, simulate
    sc, cat = load_scenario("scenario.toml")
    result = simulate(sc, cat)
"""

from ._version import __version__
from .errors import InputError
from .io.scenario import Scenario, load_scenario, scenario_from_dict
from .simulate.run import Result, simulate

__all__ = [
           "InputError",
           "Result",
           "Scenario",
           "__version__",
           "load_scenario",
           "scenario_from_dict",
           "simulate",
]
