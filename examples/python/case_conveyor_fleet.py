"""Case study: a fleet of conveyors over a simulated year, maintained periodically or
predictively (the Python side of ``examples/case_conveyor_fleet.rs``).

The simulation is the library's ``twin.conveyor_fleet_study``: each policy family
(periodic age replacement, condition-based on measured wear, predictive on the twin's
remaining-life estimate) is tuned for least cost on one seed and evaluated, with running to
failure, on another. The script prints the same table as the Rust example and draws the
downtime and cost of each policy as bars.

    python examples/python/case_conveyor_fleet.py [PNG] [--units N] [--seed S]

The PNG defaults to ``target/case_conveyor_fleet.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import twin  # noqa: E402


def table(study):
    """The Rust example's table, line by line."""
    lines = [f"Fleet of {study['units']} conveyors, one simulated year"]
    lines.append(f"{'policy':<34} {'failures':>9} {'planned':>10} {'downtime h':>12} {'cost':>12} {'avail %':>10}")
    for r in study["reports"]:
        lines.append(
            f"{r['label']:<34} {r['failures']:>9} {r['preventive']:>10} {r['downtime_h']:>12.0f} "
            f"{r['cost']:>12.0f} {100 * r['availability']:>10.3f}"
        )
    lines.append("")
    lines.append(headline(study))
    return lines


def headline(study):
    return (
        f"predictive against periodic: downtime {-100 * study['downtime_cut']:+.1f}%, "
        f"cost {100 * (study['cost_ratio'] - 1):+.1f}%"
    )


def plot(study, path):
    reports = study["reports"]
    labels = [r["label"].split(",")[0] for r in reports]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    colours = ["#999999", "#4477aa", "#66ccee", "#228833"]
    ax1.bar(labels, [r["downtime_h"] for r in reports], color=colours)
    ax1.set_ylabel("downtime over the fleet, h")
    ax1.set_title("Downtime per policy")
    ax2.bar(labels, [r["cost"] / 1e6 for r in reports], color=colours)
    ax2.set_ylabel("cost over the fleet, millions")
    ax2.set_title("Cost per policy")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle(f"{study['units']} conveyors, one year: {headline(study)}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("png", nargs="?", default="target/case_conveyor_fleet.png")
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--seed", type=int, default=2026)
    a = p.parse_args(argv)
    study = twin.conveyor_fleet_study(units=a.units, seed=a.seed)
    print("\n".join(table(study)))
    png = pathlib.Path(a.png)
    plot(study, png)
    print(f"plot: {png}")


if __name__ == "__main__":
    main()
