"""The periodic-sensor model of benches/sim.rs in SimPy, for a side-by-side speed figure.

N devices each report once a minute (uniform phase, 1 s jitter); each report is a packet
that crosses a 10 ms link to one gateway. Two events per report (sense-and-send, arrival),
as in the Rust model: one process per device that times out to its next report and
schedules the packet's arrival as a timeout with a callback (no process per packet).

Usage: python simpy_sensors.py DEVICES HORIZON_S
Prints SIMPY_EVENTS_PER_SEC=<events per wall-clock second>.
"""

import random
import sys
import time

import simpy


def main() -> None:
    devices = int(sys.argv[1])
    horizon = float(sys.argv[2])
    period, jitter, latency = 60.0, 1.0, 0.01
    env = simpy.Environment()
    rng = random.Random(42)
    counts = {"reports": 0, "delivered": 0}

    def arrived(_event) -> None:
        counts["delivered"] += 1

    def device(i: int):
        phase = (i + rng.random()) * period / devices
        yield env.timeout(phase + rng.random() * jitter)
        k = 0
        while True:
            counts["reports"] += 1
            packet = env.timeout(latency)
            packet.callbacks.append(arrived)
            k += 1
            nxt = phase + k * period + rng.random() * jitter
            yield env.timeout(nxt - env.now)

    t0 = time.perf_counter()
    for i in range(devices):
        env.process(device(i))
    env.run(until=horizon)
    wall = time.perf_counter() - t0
    events = counts["reports"] + counts["delivered"]
    print(f"devices={devices} horizon_s={horizon} reports={counts['reports']} "
          f"delivered={counts['delivered']} events={events} wall_s={wall:.2f}")
    print(f"SIMPY_EVENTS_PER_SEC={events / wall:.0f}")


if __name__ == "__main__":
    main()
