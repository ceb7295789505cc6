"""Case study: a wind farm whose twins predict blade fatigue and recommend derating (the
Python side of ``examples/case_wind_farm.rs``).

The simulation is the library's ``twin.wind_farm_study``: each turbine streams hourly
winds to its twin, which accumulates blade damage by Miner's rule; after two years the twin
asks by Monte Carlo whether the blades last to the blade change in year 20 with 90%
confidence and, where they would not, derates the turbine through its command gate just
enough. The script prints the same table as the Rust example and draws, for each derated
site, the blade damage projected by the site's turbine model from the twin's damage
estimate at the advice to the blade change, at full power and derated (median and 5-95%
band over the S-N scatter), with the failure line D = 1.

    python examples/python/case_wind_farm.py [PNG] [--scales 7 7.5 ...] [--seed S]

The PNG defaults to ``target/case_wind_farm.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import twin  # noqa: E402

YEAR = 365.25 * 86_400.0
ADVISE_AT_YEARS = 2.0
BLADE_CHANGE_YEARS = 20.0
CONFIDENCE = 0.9


def table(rows):
    """The Rust example's table, line by line."""
    lines = [
        f"Wind farm: blade fatigue after {ADVISE_AT_YEARS:g} years, blade change planned in "
        f"year {BLADE_CHANGE_YEARS:g}, confidence {CONFIDENCE:g}"
    ]
    lines.append(
        f"{'scale':>8} {'D twin':>9} {'D true':>9} {'P full':>10} {'derate':>8} {'P derated':>10} "
        f"{'energy-':>9} {'dD/y before':>10} {'dD/y after':>10}"
    )
    for r in rows:
        lines.append(
            f"{r['wind_scale']:>8.1f} {r['damage_twin']:>9.4f} {r['damage_true']:>9.4f} "
            f"{r['survival_full']:>10.3f} {r['derate']:>8.3f} {r['survival_derated']:>10.3f} "
            f"{100 * r['energy_loss']:>8.1f}% {r['damage_rate_before']:>10.4f} {r['damage_rate_after']:>10.4f}"
        )
    return lines


def projection(row, derate, seed):
    """The twin's what-if from its damage estimate at the advice to the blade change."""
    model = twin.WindTurbineModel(weibull_scale=row["wind_scale"], wind_period_s=3600.0)
    scenario = twin.WhatIfScenario(
        (BLADE_CHANGE_YEARS - ADVISE_AT_YEARS) * YEAR,
        30 * 86_400.0,
        inputs={"derate": derate},
        faults=[{"at_s": 0.0, "effect": {"kind": "set_state", "state": "damage", "value": row["damage_twin"]}}],
        paths=300,
        seed=seed,
    )
    return model.what_if(scenario)


def plot(rows, path, seed):
    derated = [r for r in rows if r["derate"] < 1.0] or rows[-1:]
    cols = min(3, len(derated))
    nrows = -(-len(derated) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.5 * cols, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(derated):]:
        ax.set_visible(False)
    for ax, row in zip(axes.flat, derated):
        for derate, colour, label in [(1.0, "#cc3311", "full power"), (row["derate"], "#0077bb", f"derate {row['derate']:.3f}")]:
            r = projection(row, derate, seed)
            k = r.names.index("damage")
            # Row 0 is the model's own start; the estimate is set at the first step.
            years = ADVISE_AT_YEARS + r.times_s[1:] / YEAR
            lo, mid, hi = (r.quantile(q)[1:, k] for q in (0.05, 0.5, 0.95))
            ax.fill_between(years, lo, hi, color=colour, alpha=0.2)
            ax.plot(years, mid, color=colour, label=label)
        ax.axhline(1.0, color="black", lw=0.8, ls="--")
        ax.set_title(f"site scale {row['wind_scale']:.1f} m/s", fontsize=9)
        ax.set_xlabel("years")
        ax.set_ylabel("blade damage (Miner)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("png", nargs="?", default="target/case_wind_farm.png")
    p.add_argument("--scales", type=float, nargs="+", default=[7.0, 7.5, 8.0, 8.5, 9.0, 9.5])
    p.add_argument("--seed", type=int, default=11)
    a = p.parse_args(argv)
    rows = twin.wind_farm_study(
        scales=a.scales, seed=a.seed, advise_at_years=ADVISE_AT_YEARS,
        blade_change_years=BLADE_CHANGE_YEARS, confidence=CONFIDENCE,
    )
    print("\n".join(table(rows)))
    png = pathlib.Path(a.png)
    plot(rows, png, a.seed)
    print(f"plot: {png}")


if __name__ == "__main__":
    main()
