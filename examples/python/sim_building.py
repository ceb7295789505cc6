"""Sensor placement in a smart building, from Python.

``twin.building_placement`` (the Rust ``twin::sim::cases::building`` study) sweeps the
number of LoRa sensors on a 60 m x 40 m floor with one gateway: more sensors cover more of
the floor, but collide more on the air. The table gives coverage and delivery per sensor
count; the plot shows both against the count.

    python examples/python/sim_building.py [out.png]
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import twin  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="target/sim_building.png", help="PNG to write")
    args = ap.parse_args()

    r = twin.building_placement()
    print("60 m x 40 m floor, LoRa SF7, one gateway, a reading a minute for an hour")
    print(f"{'sensors':>8} {'coverage':>10} {'delivery':>10} {'collisions':>11}")
    for n, c, d, k in zip(r["sensors"], r["coverage"], r["delivery"], r["collisions"]):
        print(f"{n:>8} {100 * c:>9.1f}% {100 * d:>9.1f}% {k:>11}")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(r["sensors"], 100 * r["coverage"], "o-", label="floor covered by a working sensor")
    ax.plot(r["sensors"], 100 * r["delivery"], "s-", label="readings delivered")
    ax.set_xscale("log")
    ax.set_xlabel("sensors on the floor")
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)
    ax.set_title("Sensor placement: coverage against collisions (LoRa SF7, one gateway)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot written to {out}")


if __name__ == "__main__":
    main()
