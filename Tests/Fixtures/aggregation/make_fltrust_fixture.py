#!/usr/bin/env python3
"""Golden output for FLTrust (Cao et al., NDSS 2021), written from the paper's equations in numpy:
trust TS_i = ReLU(cos(g_i, g_0)); each g_i rescaled to ||g_0||; aggregate = sum_i TS_i * rescaled g_i / sum_i TS_i.
Eight updates near the server's direction (varied norms), two pointing away (trust 0), one scaled up 20x along the
server's direction (kept, rescaled), one all zero (trust 0).
Run once:  python3 make_fltrust_fixture.py > fltrust.json   (numpy only)"""
import json
import numpy as np

rng = np.random.RandomState(2027)
p = 40
server = rng.normal(0, 1, p)
updates = [server * rng.uniform(0.3, 3.0) + rng.normal(0, 0.8, p) for _ in range(8)]
updates += [-server + rng.normal(0, 0.3, p), -2 * server]
updates += [20 * server + rng.normal(0, 0.5, p), np.zeros(p)]
g = np.asarray(updates, dtype=np.float32).astype(np.float64)
g0 = server.astype(np.float32).astype(np.float64)
norms = np.linalg.norm(g, axis=1)
n0 = np.linalg.norm(g0)
cos = np.where(norms > 0, (g @ g0) / np.maximum(norms, 1e-300) / n0, 0.0)
trust = np.maximum(cos, 0.0)
scaled = g * np.where(norms > 0, n0 / np.maximum(norms, 1e-300), 0.0)[:, None]
aggregate = (trust[:, None] * scaled).sum(0) / trust.sum()
print(json.dumps({"numpy_version": np.__version__, "reference": g0.tolist(), "updates": g.tolist(), "trust": trust.tolist(),
                  "excluded": np.nonzero(trust == 0)[0].tolist(), "expected": aggregate.tolist()}))
