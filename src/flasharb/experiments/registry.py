"""The experiments by name (`flasharb experiment NAME`): the five built in, the ones a user
registered in this process (`register_experiment`), and any `module:attribute` naming an
`Experiment` (what worker processes import, so `--workers N` and Ray run user experiments too).

    # my_lab/sweeps.py
    from flasharb import Experiment, register_experiment
    SWEEP = Experiment(name="my-sweep", title=..., question=..., grid=..., run_point=...,
                       rows=..., plots=...)

    flasharb experiment my_lab.sweeps:SWEEP --workers 2     # journal, plots, HTML report
"""

from __future__ import annotations

from importlib import import_module

from flasharb.errors import FlasharbValueError
from flasharb.experiments.base import Experiment

__all__ = ["NAMES", "get", "register_experiment"]

NAMES = ("shock-sweep", "staleness", "hop-gas", "flash-sources", "optimizers")
_BUILT_IN = {
    "shock-sweep": "flasharb.experiments.shock_sweep",
    "staleness": "flasharb.experiments.staleness",
    "hop-gas": "flasharb.experiments.hop_gas",
    "flash-sources": "flasharb.experiments.flash_sources",
    "optimizers": "flasharb.experiments.optimizers",
}
_REGISTERED: dict[str, Experiment] = {}


def register_experiment(experiment: Experiment) -> Experiment:
    """Make `experiment` runnable by its name in this process (`run_experiment(name, ...)`);
    for worker processes and the CLI, name it as `module:attribute` instead.

    Raises:
        FlasharbValueError: the name is a built-in one, or already registered to another.
    """
    if not isinstance(experiment, Experiment):
        raise FlasharbValueError(f"{experiment!r} is not a flasharb Experiment")
    seen = _REGISTERED.get(experiment.name)
    if experiment.name in _BUILT_IN or (seen is not None and seen is not experiment):
        raise FlasharbValueError(f"an experiment named {experiment.name!r} exists; rename yours")
    _REGISTERED[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    """The experiment called `name`: built in, registered, or `module:attribute`."""
    module = _BUILT_IN.get(name)
    if module is not None:
        exp: Experiment = import_module(module).EXPERIMENT
        return exp
    if name in _REGISTERED:
        return _REGISTERED[name]
    if ":" in name:
        path, _, attr = name.partition(":")
        try:
            found = getattr(import_module(path), attr)
        except (ImportError, AttributeError) as exc:
            raise FlasharbValueError(
                f"experiment {name!r}: cannot import {attr} from {path} ({exc}); is the module on "
                "the Python path?"
            ) from exc
        if not isinstance(found, Experiment):
            raise FlasharbValueError(f"{name} is a {type(found).__name__}, not an Experiment")
        return found
    raise FlasharbValueError(
        f"no experiment {name!r}; pick one of {', '.join(NAMES)}, or name yours as module:attribute"
    )
