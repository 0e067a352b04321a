#!/usr/bin/env python3
"""Golden rounds for FLDetector (Zhang et al., KDD 2022), written in numpy from the paper: the L-BFGS Hessian-vector
product of its Algorithm 1 (compact form, np.linalg.inv), predicted updates g_hat = g(tau) + H (w_(t-1) - w_(tau-1)),
prediction errors normalised within the round (by their median: a stated departure), suspicious score = mean of a client's last N errors, the gap
statistic (uniform references, log of their mean cost, s_k = sqrt(1 + 1/B) sd) and 2-means on the scores, the higher
cluster excluded from then on; the aggregate is the example-weighted mean of the rest. With the lab's stated
departures: clients are sampled (10 of 12 a round), a client is predicted from its last round within the window,
errors are measured on count sketches, k-means is exact (here by trying every split of the sorted scores).

The clients minimise quadratics 1/2 (w - c_i)' A (w - c_i) with one gradient step a round; from round 8 clients 2 and 5
pull towards a far target. Round by round the fixture gives the updates, the aggregate and the excluded clients.
Run once:  python3 make_fldetector_fixture.py > fldetector.json   (numpy only)"""
import itertools
import json
import math

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class SplitMix64:
    def __init__(self, seed, stream=None):
        if stream is None:
            self.state = seed & MASK
        else:
            mixed = mix((seed + GOLDEN) & MASK)
            for component in stream:
                mixed = mix(mixed ^ mix((component + 0xD1B54A32D192ED03) & MASK))
            self.state = mixed

    def next(self):
        self.state = (self.state + GOLDEN) & MASK
        return mix(self.state)

    def unit_double(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)


SEED, WINDOW, SKETCH, B, K_MAX = 11, 3, 32, 10, 7
n, p, rounds = 12, 60, 16
attackers, attack_from = {2, 5}, 8

buckets, signs = [], []
for i in range(p):
    h = SplitMix64(SEED ^ ((i * GOLDEN) & MASK)).next()
    buckets.append(h % SKETCH)
    signs.append(1.0 if (h >> 63) == 0 else -1.0)


def sketch(x):
    out = np.zeros(SKETCH)
    for i in range(p):
        out[buckets[i]] += signs[i] * float(x[i])
    return out


def lbfgs_hvp(S, Y, v):
    """Algorithm 1: S, Y are p x m (oldest pair first)."""
    StY, StS = S.T @ Y, S.T @ S
    L = np.tril(StY, -1)
    D = np.diag(np.diag(StY))
    sigma = (Y[:, -1] @ S[:, -1]) / (S[:, -1] @ S[:, -1])
    M = np.block([[sigma * StS, L], [L.T, -D]])
    q = np.linalg.inv(M) @ np.concatenate([sigma * (S.T @ v), Y.T @ v])
    return sigma * v - np.hstack([sigma * S, Y]) @ q


def kmeans_cost(values, k):
    """Least within-cluster sum of squares over every split of the sorted values into k runs, and the best split."""
    v = sorted(values)
    best = (math.inf, None)
    for cuts in itertools.combinations(range(1, len(v)), k - 1):
        bounds = (0,) + cuts + (len(v),)
        cost = sum(np.sum((np.array(v[a:b]) - np.mean(v[a:b])) ** 2) for a, b in zip(bounds, bounds[1:]))
        if cost < best[0] - 1e-15:
            best = (cost, bounds)
    return best[0], v, best[1]


def group_count(scores, generator, margins):
    if len(scores) < 3 or max(scores) == min(scores):
        return 1
    lo, hi = min(scores), max(scores)
    x = [(s - lo) / (hi - lo) for s in scores]
    limit = min(K_MAX, len(x) - 1)
    gaps, spreads = [], []
    for k in range(1, limit + 1):
        wk = kmeans_cost(x, k)[0]
        refs = [kmeans_cost([generator.unit_double() for _ in x], k)[0] for _ in range(B)]
        gaps.append(math.log(np.mean(refs)) - (math.log(wk) if wk > 0 else -math.inf))
        spreads.append(math.sqrt(1 + 1 / B) * np.std(np.log(refs)))
    for k in range(1, limit):
        margins.append(gaps[k - 1] - (gaps[k] - spreads[k]))
        if gaps[k - 1] >= gaps[k] - spreads[k]:
            return k
    return limit


rng = np.random.RandomState(7)
A = rng.uniform(0.5, 2.0, p)
center = rng.normal(0, 1, p)
targets = [center + rng.normal(0, 0.05, p) for _ in range(n)]
far = center + 4.0 * rng.normal(0, 1, p)
counts = rng.randint(20, 60, n).tolist()
w = np.zeros(p)

changes, gdiffs, last_agg = {}, {}, None
traces, excluded = {}, set()   # client -> {"round", "sketch", "errors"}
out_rounds, all_margins = [], []
for t in range(1, rounds + 1):
    sampled = [c for c in range(n) if c not in {t % n, (t + 3) % n}]
    updates = {}
    for c in sampled:
        goal = far if (c in attackers and t >= attack_from) else targets[c]
        delta = -0.3 * A * (w - goal) + rng.normal(0, 0.01, p)
        updates[c] = delta.astype(np.float32).astype(np.float64)
    active = [c for c in sampled if c not in excluded]
    sk = {c: sketch(updates[c]) for c in active}
    pair_rounds = list(range(t - WINDOW, t))
    errors = {}
    if all(r - 1 in changes and r in gdiffs for r in pair_rounds):
        S = np.stack([changes[r - 1] for r in pair_rounds], axis=1)
        Y = np.stack([gdiffs[r] for r in pair_rounds], axis=1)
        for c in active:
            tr = traces.get(c)
            if tr is None or tr["sketch"] is None or not all(r in changes for r in range(tr["round"], t)):
                continue
            v = sum(changes[r] for r in range(tr["round"], t))
            predicted = tr["sketch"] - sketch(lbfgs_hvp(S, Y, v))   # in delta = -g: delta_hat = delta(tau) - H v
            errors[c] = float(np.linalg.norm(predicted - sk[c]))
    typical = np.median(list(errors.values())) if errors else 0.0
    if typical > 0:
        for c, e in errors.items():
            traces[c]["errors"] = (traces[c]["errors"] + [e / typical])[-WINDOW:]
    flagged = set()
    scored = [(c, np.mean(traces[c]["errors"])) for c in active if c in traces and traces[c]["errors"]]
    if errors and len(scored) >= 3:
        generator = SplitMix64(SEED, [0x464C4454, t])
        if group_count([s for _, s in scored], generator, all_margins) >= 2:
            _, ordered, bounds = kmeans_cost([s for _, s in scored], 2)
            threshold = ordered[bounds[1]]
            flagged = {c for c, s in scored if s >= threshold}
    excluded |= flagged
    kept = [c for c in active if c not in flagged]
    weights = np.array([counts[c] for c in kept], dtype=np.float64)
    agg = (np.stack([updates[c] for c in kept]) * weights[:, None]).sum(0) / weights.sum() if kept else np.zeros(p)
    if last_agg is not None and last_agg[0] == t - 1:
        gdiffs[t] = last_agg[1] - agg
    last_agg = (t, agg)
    for c in active:
        tr = traces.setdefault(c, {"round": t, "sketch": None, "errors": []})
        tr["round"], tr["sketch"] = t, (None if c in flagged else sk[c])
    for c, tr in traces.items():
        if tr["round"] < t + 1 - WINDOW:
            tr["sketch"] = None
    changes[t] = agg.copy()             # server: sgd with learning rate 1
    changes = {r: v for r, v in changes.items() if r >= t - WINDOW}
    w = w + agg
    out_rounds.append({"round": t, "clients": sampled, "counts": [counts[c] for c in sampled],
                       "updates": [updates[c].tolist() for c in sampled], "expected": agg.tolist(),
                       "excluded": sorted(c for c in sampled if c in excluded),
                       "scores": {str(c): s for c, s in scored}})
print(json.dumps({"numpy_version": np.__version__, "seed": SEED, "window": WINDOW, "sketch_size": SKETCH,
                  "smallest_decision_margin": min(abs(m) for m in all_margins) if all_margins else None,
                  "rounds": out_rounds}))
