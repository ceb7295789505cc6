"""ProgPy side of the battery prognosis benchmark (benches/estimate_vs_progpy.sh).

NASA ProgPy's BatteryCircuit model, the same settings as twin's side
(examples/battery_eod.rs):
  - deterministic end of discharge (EOD) from a full cell at a constant 2 A, Euler steps
    of 1 s, no noise (simulate_to_threshold);
  - an UnscentedKalmanFilter (ProgPy's defaults alpha=1, beta=0, kappa=-1) tracking 600
    noise-free 1 Hz measurements of the cell at 2 A, with Q = diag((0.25 s^-1 * 1 s)^2),
    R = diag(2^2, 0.02^2), P0 = diag(0.01, 1, 0.01, 0.01): time per estimate() call;
  - a 100-sample MonteCarlo prediction to EOD from the filter's estimate at 2 A, process
    noise 0.25 on every state, dt = 1 s (ProgPy's default step), timed.
Prints one JSON object on the last line.
"""

import json
import sys
import time

import numpy as np

import progpy
from progpy.models import BatteryCircuit
from progpy.predictors import MonteCarlo
from progpy.state_estimators import UnscentedKalmanFilter
from progpy.uncertain_data import MultivariateNormalDist

CURRENT = 2.0
DT = 1.0
STEPS = 600
SAMPLES = 100
PROCESS_STD = 0.25
MEAS_STD = {"t": 2.0, "v": 0.02}
P0 = [0.01, 1.0, 0.01, 0.01]


def main():
    np.random.seed(0)

    # 1. Deterministic EOD.
    clean = BatteryCircuit()
    load_c = clean.InputContainer({"i": CURRENT})
    res = clean.simulate_to_threshold(lambda t, x=None: load_c, dt=DT, save_freq=1e9)
    eod_deterministic = float(res.times[-1])

    # 2. Noise-free measurements of the cell at 2 A, 1 Hz.
    x = clean.initialize()
    measurements = []
    for _ in range(STEPS):
        x = clean.next_state(x, load_c, DT)
        measurements.append(clean.output(x))

    # 3. UKF.
    m = BatteryCircuit(process_noise=PROCESS_STD, measurement_noise=MEAS_STD)
    load = m.InputContainer({"i": CURRENT})
    x0 = m.initialize()
    prior = MultivariateNormalDist(
        list(x0.keys()), list(x0.values()), np.diag(P0)
    )
    q = np.diag([(PROCESS_STD * DT) ** 2] * 4)
    r = np.diag([MEAS_STD["t"] ** 2, MEAS_STD["v"] ** 2])
    ukf = UnscentedKalmanFilter(m, prior, Q=q, R=r, t0=0.0, dt=DT)
    start = time.perf_counter()
    for k, z in enumerate(measurements):
        ukf.estimate((k + 1) * DT, load, z)
    ukf_s = (time.perf_counter() - start) / STEPS
    mean = ukf.x.mean

    # 4. Monte Carlo prediction to EOD, on a fresh model: after ProgPy's UKF has run on a
    # model, that model's process noise is no longer applied in simulation (its UKF zeroes
    # the noise parameter around each step and the restore does not re-enable it), so a
    # prediction on `m` would silently run without process noise.
    m_pred = BatteryCircuit(process_noise=PROCESS_STD, measurement_noise=MEAS_STD)
    mc = MonteCarlo(m_pred)
    start = time.perf_counter()
    pred = mc.predict(ukf.x, lambda t, x=None: load, n_samples=SAMPLES, dt=DT)
    mc_s = time.perf_counter() - start
    toe = np.array([t for t in pred.time_of_event.key("EOD") if t is not None], dtype=float)

    out = {
        "tool": "progpy " + getattr(progpy, "__version__", "?"),
        "eod_deterministic_s": eod_deterministic,
        "ukf_update_us": ukf_s * 1e6,
        "ukf_qb_after_600s": float(mean["qb"]),
        "mc100_s": mc_s,
        "eod_mean_s": float(toe.mean()),
        "eod_p05_s": float(np.percentile(toe, 5)),
        "eod_p50_s": float(np.percentile(toe, 50)),
        "eod_p95_s": float(np.percentile(toe, 95)),
        "eod_reached": int(len(toe)),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
