#!/usr/bin/python3
"""Fixture for core/metric: scipy's spearmanr on maps with heavy ties.

    /usr/bin/python3 testdata/gen/probe_metric.py   (from the repository root)
Writes testdata/probe/metric_cases.json: float32 vectors and scipy's values.
"""
import json
import numpy as np
from scipy import stats

rng = np.random.default_rng(3)
n = 28 * 28
x = np.tile(np.arange(28) / 27.0, 28).astype(np.float32)  # H-like GT, 28 ties each
cases = []
def add(name, pred, gt):
    pred = np.asarray(pred, np.float32)
    gt = np.asarray(gt, np.float32)
    rho = stats.spearmanr(pred.astype(np.float64), gt.astype(np.float64)).correlation
    cases.append(dict(name=name, pred=pred.tolist(), gt=gt.tolist(),
                      spearman=float(rho), mae=float(np.mean(np.abs(pred.astype(np.float64) - gt)))))
add("noisy gradient", x + rng.normal(0, 0.2, n), x)
add("quantised prediction", np.round((x + rng.normal(0, 0.3, n)) * 4) / 4, x)
add("anti", 1 - x + rng.normal(0, 0.05, n), x)
add("random", rng.random(n), np.cos(np.arange(n) / 50.0))
json.dump(cases, open("testdata/probe/metric_cases.json", "w"))
