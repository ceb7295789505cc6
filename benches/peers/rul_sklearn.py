"""scikit-learn peers on NASA C-MAPSS FD001 with the same window features and protocol
as `cargo run --release --example cmapss`.

Protocol: train on train_FD001 with RUL targets capped at 125 (training targets only),
predict the last cycle of each of the 100 test units, score against the true, uncapped
RUL of RUL_FD001. Features (per sensor, on sensors standardised with the training mean
and standard deviation): exponentially smoothed level (alpha 0.2), mean and least-squares
slope over the last 200 cycles, slope over the last 20 cycles; plus the unit's age.
`--window 30 --recent 0` gives the classic 30-cycle window.

Usage: python rul_sklearn.py [--data DIR] [--window N] [--recent N] [--smoothing A]
"""

import argparse
import os
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

COLUMNS = ["unit", "cycle", "setting1", "setting2", "setting3"] + [f"s{i}" for i in range(1, 22)]
# sensors that vary on FD001 (the same selection as cmapss::FD001_SENSORS)
SENSORS = ["s2", "s3", "s4", "s7", "s8", "s9", "s11", "s12", "s13", "s14", "s15", "s17", "s20", "s21"]
CAP = 125.0


def load(path):
    return pd.read_csv(path, sep=r"\s+", header=None, names=COLUMNS)


def rolling_slope(t, z, window):
    """Least-squares slope of z against t over the last `window` rows (fewer at the start)."""
    s = pd.DataFrame({"t": t, "tt": t * t, "z": z, "tz": t * z, "n": np.ones_like(t)})
    r = s.rolling(window, min_periods=1).sum()
    n = r["n"].to_numpy()
    tm = r["t"].to_numpy() / n
    ctt = r["tt"].to_numpy() - n * tm * tm
    cty = r["tz"].to_numpy() - tm * r["z"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(ctt > 1e-9 * n * np.maximum(tm * tm, 1.0), cty / ctt, 0.0)
    return slope


def features(df, mean, std, window, recent, smoothing):
    rows = []
    for _, u in df.groupby("unit", sort=False):
        t = (u["cycle"] - u["cycle"].iloc[0]).to_numpy(dtype=float)
        cols = {}
        for s in SENSORS:
            z = ((u[s] - mean[s]) / std[s]).to_numpy(dtype=float)
            zs = pd.Series(z)
            cols[f"{s}_level"] = zs.ewm(alpha=smoothing, adjust=False).mean().to_numpy()
            cols[f"{s}_mean"] = zs.rolling(window, min_periods=1).mean().to_numpy()
            cols[f"{s}_slope"] = rolling_slope(t, z, window)
            if recent > 1:
                cols[f"{s}_recent"] = rolling_slope(t, z, recent)
        cols["age"] = t
        f = pd.DataFrame(cols)
        f["unit"] = u["unit"].to_numpy()
        f["rul"] = (u["cycle"].max() - u["cycle"]).to_numpy(dtype=float)
        rows.append(f)
    return pd.concat(rows, ignore_index=True)


def phm08(pred, true):
    d = pred - true
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(here, "..", "data", "cmapss"))
    ap.add_argument("--window", type=int, default=200)
    ap.add_argument("--recent", type=int, default=20)
    ap.add_argument("--smoothing", type=float, default=0.2)
    args = ap.parse_args()

    train = load(os.path.join(args.data, "train_FD001.txt"))
    test = load(os.path.join(args.data, "test_FD001.txt"))
    truth = np.loadtxt(os.path.join(args.data, "RUL_FD001.txt"))
    mean, std = train[SENSORS].mean(), train[SENSORS].std(ddof=0)
    ftr = features(train, mean, std, args.window, args.recent, args.smoothing)
    fte = features(test, mean, std, args.window, args.recent, args.smoothing)
    last = fte.groupby("unit", sort=False).tail(1)
    cols = [c for c in ftr.columns if c not in ("unit", "rul")]
    x, y = ftr[cols].to_numpy(), np.minimum(ftr["rul"].to_numpy(), CAP)
    xt = last[cols].to_numpy()
    print(
        f"scikit-learn peers, FD001, window {args.window}, recent {args.recent}, "
        f"smoothing {args.smoothing}: {len(x)} training rows, {len(cols)} features"
    )
    models = {
        "random forest (200 trees, n_jobs=2)": RandomForestRegressor(
            n_estimators=200, n_jobs=2, random_state=0
        ),
        "hist gradient boosting (defaults)": HistGradientBoostingRegressor(random_state=0),
        "hist gradient boosting (twin's tree settings)": HistGradientBoostingRegressor(
            max_iter=600,
            learning_rate=0.025,
            max_depth=5,
            min_samples_leaf=60,
            early_stopping=False,
            random_state=0,
        ),
        "ridge (alpha 100)": make_pipeline(StandardScaler(), Ridge(alpha=100.0)),
    }
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(x, y)
        fit = time.perf_counter() - t0
        pred = np.clip(model.predict(xt), 0.0, None)
        rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
        print(f"{name:<46} RMSE {rmse:6.2f}  PHM08 {phm08(pred, truth):8.1f}  fit {fit:6.2f} s")


if __name__ == "__main__":
    main()
