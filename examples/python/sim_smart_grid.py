"""Smart grid demand response on a virtual deployment, from Python.

Households with thermostatic heaters and electric-vehicle charging are simulated by
``twin.smart_grid`` (the Rust ``twin::sim::cases::grid`` model) under each strategy on the
same random numbers; the table gives the evening peak and its reduction against the
baseline, and the plot shows the aggregate demand curves with the peak window shaded.

    python examples/python/sim_smart_grid.py [out.png] [--houses N] [--seed S]
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import twin  # noqa: E402

LABELS = {
    "baseline": "baseline",
    "shift_charging": "shift charging",
    "shift_and_setback": "shift + thermostat setback",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="target/sim_smart_grid.png", help="PNG to write")
    ap.add_argument("--houses", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    r = twin.smart_grid(houses=args.houses, seed=args.seed)
    print(f"{args.houses} households, paired on seed {args.seed}; peak of 15-minute demand")
    print(f"{'strategy':<18} {'peak kW':>10} {'at h':>8} {'reduction':>10} {'heating kWh':>12} {'charging kWh':>12} {'below 18 C deg.h':>16}")
    for i, name in enumerate(r["strategy"]):
        print(
            f"{name:<18} {r['peak_kw'][i]:>10.0f} {r['peak_at_h'][i]:>8.2f} "
            f"{100 * r['peak_reduction'][i]:>9.1f}% {r['heating_kwh'][i]:>12.0f} "
            f"{r['charging_kwh'][i]:>12.0f} {r['discomfort_deg_h'][i]:>16.1f}"
        )

    fig, ax = plt.subplots(figsize=(10, 5))
    ax.axvspan(r["peak_start_h"], r["peak_end_h"], color="tab:orange", alpha=0.15, label="peak window")
    for i, name in enumerate(r["strategy"]):
        ax.step(r["t_h"], r["demand_kw"][i] / 1000.0, where="post", label=LABELS.get(name, name))
        ax.plot(r["peak_at_h"][i] + 0.125, r["peak_kw"][i] / 1000.0, "v", color=ax.lines[-1].get_color())
    ax.set_xlabel("hours after midnight")
    ax.set_ylabel("aggregate demand, MW (15-minute mean)")
    ax.set_title(f"Demand response on {args.houses} households (paired runs, seed {args.seed})")
    ax.set_xlim(0, r["t_h"][-1] + 0.25)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot written to {out}")


if __name__ == "__main__":
    main()
