"""Plots of the report: pure renderers of plot data that claims attach to their evidence.

A claim attaches ``{"kind": "landscape", "x": [...], "y": [...], "z": [[...]], ...}`` (a contour plot)
or ``{"kind": "trajectories", "series": {run: {"log10_t": [...], "xi1": [...], ...}}}`` (four panels of
GD runs against log10 t) or ``{"kind": "training", "curves": {run: {"step": [...], "loss": [...]}},
"test": {run: {model: [mean, lower, upper]}}, "threshold": t}`` (claim E1, in the style of [LCG24] Fig. 3:
the training loss against the SGD step, and the test MSE of each model with its confidence interval)
or ``{"kind": "panels", "x_label": ..., "panels": [{"title": ..., "y_label": ..., "log_y": bool, "series":
{name: {"x": [...], "y": [...], "style": "-" or "--"}}}]}`` (a row of line plots) under the evidence key
``plot`` (:func:`properties.registry.attach`);
:func:`write_plots` draws each into
``<claim ID>.png`` beside the report, and the Markdown report embeds it. matplotlib is imported
lazily with the Agg backend (no display needed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["plot_file", "write_plots"]


def plot_file(claim_id: str) -> str:
    """The file name of a claim's plot, relative to the report directory."""
    return f"{claim_id}.png"


def _landscape(axes: Any, plot: dict[str, Any]) -> Any:
    import numpy as np

    x, y, z = np.asarray(plot["x"]), np.asarray(plot["y"]), np.asarray(plot["z"])  # z[i, j] at (x[i], y[j])
    mesh = axes.contourf(x, y, z.T, levels=30, cmap="viridis")
    axes.contour(x, y, z.T, levels=12, colors="white", linewidths=0.4)
    axes.set_xlabel(plot.get("x_label", "x"))
    axes.set_ylabel(plot.get("y_label", "y"))
    return mesh


def _trajectories(figure: Any, plot: dict[str, Any]) -> None:
    """Four panels against log10 t: xi1, xi2, xi1/xi2 (with its reference line) and L log t, one line per run."""
    panels = figure.subplots(2, 2, sharex=True)
    names = (("xi1", "xi1"), ("xi2", "xi2"), ("ratio", "xi1 / xi2"), ("loss_log_t", "L log t"))
    for axes, (key, label) in zip(panels.flat, names, strict=True):
        for run, series in plot["series"].items():
            axes.plot(series["log10_t"], series[key], label=run, linewidth=1.2)
        reference = plot.get("reference", {}).get(key)
        if reference is not None:
            axes.axhline(reference, color="black", linestyle="--", linewidth=0.8, label=f"{reference:.4g}")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
    for axes in panels[1]:
        axes.set_xlabel("log10 t")
    panels[0, 0].legend(fontsize=7)
    panels[1, 0].legend(fontsize=7)


def _training(figure: Any, plot: dict[str, Any]) -> None:
    """Two panels: the training loss against SGD step + 1 (log x), one line per run; the test MSE of each model
    per run (log y), a marker at the mean and a bar from the lower to the upper confidence bound (a bound of 0
    is drawn at the panel's floor), with the criterion's threshold as a dashed line."""
    import numpy as np

    curves, test = figure.subplots(1, 2)
    for run, series in plot["curves"].items():
        curves.plot(np.asarray(series["step"]) + 1, series["loss"], marker=".", linewidth=1.2, label=run)
    curves.set_xscale("log")
    curves.set_xlabel("SGD step + 1")
    curves.set_ylabel("training loss")
    curves.grid(alpha=0.3)
    curves.legend(fontsize=7)
    runs = list(plot["test"])
    models = list(dict.fromkeys(model for row in plot["test"].values() for model in row))
    values = [v for row in plot["test"].values() for triple in row.values() for v in triple if v > 0]
    floor = min(values, default=1.0) / 10
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        x = np.arange(len(runs)) + (i - (len(models) - 1) / 2) * width
        mean, lower, upper = (np.array([max(plot["test"][run][model][j], floor) for run in runs]) for j in range(3))
        test.errorbar(x, mean, yerr=[mean - lower, upper - mean], fmt="o", capsize=3, label=model)
    if plot.get("threshold") is not None:
        test.axhline(plot["threshold"], color="black", linestyle="--", linewidth=0.8, label="threshold")
    test.set_yscale("log")
    test.set_xticks(np.arange(len(runs)), runs, fontsize=7)
    test.set_ylabel("separated test MSE vs the 1-NN label")
    test.set_title("means, with confidence bounds (0 drawn at the floor)", fontsize=8)
    test.grid(alpha=0.3, axis="y")
    test.legend(fontsize=7)


def _panels(figure: Any, plot: dict[str, Any]) -> None:
    """A row of panels, one per entry of ``plot["panels"]``: its ``series`` are lines {"x": [...], "y": [...],
    "style": "-" or "--"} against ``plot["x_label"]`` (or the panel's own ``x_label``); ``log_y`` / ``log_x`` put
    an axis on a log scale (points <= 0 are then left out); ``plot["share_x"] = False`` gives each panel its own
    x axis (shared by default)."""
    import numpy as np

    specs = plot["panels"]
    share = bool(plot.get("share_x", True))
    for axes, spec in zip(np.atleast_1d(figure.subplots(1, len(specs), sharex=share)), specs, strict=True):
        for name, line in spec["series"].items():
            axes.plot(line["x"], line["y"], linestyle=line.get("style", "-"), linewidth=1.2, label=name)
        if spec.get("log_y"):
            axes.set_yscale("log")
        if spec.get("log_x"):
            axes.set_xscale("log")
        axes.set_title(spec.get("title", ""), fontsize=9)
        axes.set_xlabel(spec.get("x_label", plot.get("x_label", "x")))
        axes.set_ylabel(spec.get("y_label", ""))
        axes.grid(alpha=0.3)
        axes.legend(fontsize=6)


def _robustness(figure: Any, plot: dict[str, Any]) -> None:
    """Two panels (claim E2, [AW26] Fig. 5): the separated-test accuracy against eps, ours (the mean over seeds,
    a bar from the lowest to the highest seed) beside the paper's (mean, a bar of +- its spread); the distance
    ||W - Pi(W)||_F against SGD step + 1 (log x), one line per eps (the mean over seeds), the paper's start and end
    values as markers at steps 0 and its last step, in the line's colour."""
    import numpy as np

    accuracy, distance = figure.subplots(1, 2)
    eps = np.asarray(plot["eps"], dtype=float)
    offset = 0.04 * max(float(eps.max() - eps.min()), 1.0)
    ours = plot["accuracy"]
    mean = np.asarray(ours["mean"])
    spread = [np.clip(mean - np.asarray(ours["low"]), 0, None), np.clip(np.asarray(ours["high"]) - mean, 0, None)]
    accuracy.errorbar(eps - offset, mean, yerr=spread,
                      fmt="o", capsize=3, label="here: mean, seeds' range")
    paper = plot.get("paper_accuracy")
    if paper is not None:
        accuracy.errorbar(eps + offset, paper["mean"], yerr=paper["spread"], fmt="s", capsize=3,
                          label="[AW26]: mean +- spread")
    accuracy.set_xlabel("noise eps on W^0")
    accuracy.set_ylabel("separated-test argmax accuracy")
    accuracy.grid(alpha=0.3)
    accuracy.legend(fontsize=7)
    colours = {}
    for name, series in plot["distance"].items():
        (line,) = distance.plot(np.asarray(series["step"]) + 1, series["distance"], linewidth=1.2, label=name)
        colours[name] = line.get_color()
    for name, series in plot.get("paper_distance", {}).items():
        distance.plot(np.asarray(series["step"]) + 1, series["distance"], linestyle="none", marker="s",
                      color=colours.get(name, "black"), label=f"[AW26] {name}")
    distance.set_xscale("log")
    distance.set_yscale("log")
    distance.set_xlabel("SGD step + 1")
    distance.set_ylabel("||W - Pi(W)||_F (mean over seeds)")
    distance.grid(alpha=0.3)
    distance.legend(fontsize=6)


_KINDS = {"landscape": _landscape}
#: Kinds that draw a whole figure (several panels, no colour bar).
_FIGURES = {"trajectories": _trajectories, "training": _training, "panels": _panels, "robustness": _robustness}


def write_plots(report: dict[str, Any], directory: Path) -> dict[str, str]:
    """Draw every attached plot into ``directory``; return {claim ID: file name}. Each file is written atomically."""
    plots = {e["id"]: e["evidence"]["plot"] for e in report["claims"] if isinstance(e["evidence"].get("plot"), dict)}
    if not plots:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = {}
    for claim_id, plot in plots.items():
        kind = plot.get("kind", "")
        if kind in _FIGURES:
            figure = plt.figure(figsize=(8.0, 6.0))
            _FIGURES[kind](figure, plot)
            figure.suptitle(plot.get("title", claim_id), fontsize=10)
        elif kind in _KINDS:
            figure, axes = plt.subplots(figsize=(5.5, 4.2))
            figure.colorbar(_KINDS[kind](axes, plot), ax=axes)
            axes.set_title(plot.get("title", claim_id), fontsize=10)
        else:
            continue
        figure.tight_layout()
        target = directory / plot_file(claim_id)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".png.tmp")
        os.close(handle)
        try:
            figure.savefig(temporary, dpi=110, format="png")
            os.replace(temporary, target)
        finally:
            plt.close(figure)
            if os.path.exists(temporary):
                os.unlink(temporary)
        written[claim_id] = plot_file(claim_id)
    return written
