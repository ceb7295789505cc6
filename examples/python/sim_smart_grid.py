"""Smart grid demand response on a virtual deployment, from Python.

Households with thermostatic heaters and electric-vehicle charging are simulated by
``twin.smart_grid`` (the Rust ``twin::sim::cases::grid`` model) under each strategy on the
same random numbers; the table gives the evening peak and its reduction against the
baseline, and the plot shows the aggregate demand curves with the peak window shaded.

    python examples/python/sim_smart_grid.py [out.png] [--houses N] [--seed S]

Why the default cuts the peak by 37.4 % when the source study's city case reports about
15 %: every household here has an electric car plugging in between 17:00 and 20:00
(3.7 kW for 1.5-3.5 h, about 3 kW per house over the peak interval, 46 % of the peak),
every household takes part, and the feeder carries households only (no commercial or
industrial load that nobody shifts). The script also prints the same shift with only a
share p of households taking part: shifting changes charging and nothing else, so the
expected demand is (1 - p) * baseline + p * shifted (derived from the two simulated
curves, not a separate run); about 34 % participation gives a 15 % cut, and the cut is
largest near 90 % (beyond, the night's valley filling becomes the peak).
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

    names = list(r["strategy"])
    if "baseline" in names and "shift_charging" in names:
        b, sh = names.index("baseline"), names.index("shift_charging")
        base, shifted = r["demand_kw"][b], r["demand_kw"][sh]
        peak_kw = r["peak_kw"][b]
        # At the baseline's peak interval the paired curves differ by the charging only.
        at = int(round(r["peak_at_h"][b] * 4))
        ev = base[at] - shifted[at]
        print(
            f"\nWhy so large: every household has a car plugging in at 17:00-20:00 and every one "
            f"takes part. At the baseline peak ({r['peak_at_h'][b]:.2f} h) charging is {ev:.0f} of "
            f"{peak_kw:.0f} kW ({100 * ev / peak_kw:.0f} %), {ev / args.houses:.2f} kW per house; "
            f"shifting all of it out of the window leaves the night's valley filling as the new "
            f"peak ({r['peak_at_h'][sh]:.2f} h). The source study's city case, with far less "
            f"shiftable load and partial participation, reports about 15 %."
        )

        def reduction_at(p: float) -> float:
            return float((peak_kw - ((1 - p) * base + p * shifted).max()) / peak_kw)

        line = ", ".join(f"{100 * p:.0f} %: {100 * reduction_at(p):.1f} %" for p in (0.1, 0.2, 0.3, 0.5, 0.75, 0.9, 1.0))
        print(
            "ShiftCharging with a share p of households taking part (expected demand "
            f"(1 - p) baseline + p shifted), peak reduction by p: {line}"
        )
        need = next((k / 100 for k in range(1, 101) if reduction_at(k / 100) >= 0.15), None)
        if need is not None:
            print(f"A 15 % cut needs about {100 * need:.0f} % of households to shift their charging.")

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
