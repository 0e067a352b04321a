#!/usr/bin/env python3
"""Golden output for FreqFed (Fereidooni et al., NDSS 2024), written in numpy and scipy from the paper's description:
every client's update is taken to the frequency domain with the discrete cosine transform, each parameter tensor as a
matrix (first dimension x the rest; a vector as one row) through scipy's orthonormal 2-D DCT-II; the low-frequency
coefficients, (u, v) with u + v <= floor(max(P, Q) / 2), are kept row by row and all tensors' concatenated; the
cosine distances between those vectors are clustered by scikit-learn's HDBSCAN (min_cluster_size K // 2 + 1,
min_samples 1, allow_single_cluster, metric "precomputed"), and the updates in the largest cluster are averaged with
the federation's weights (FedAvg: example counts).

The model of the fixture: a 260 x 2 matrix (longer than one 256-row block of the Swift transform), a 6 x 5 matrix, a
bias of 7, a 3 x 4 x 2 tensor (a 3 x 8 matrix) and a vector of 16. Honest updates share a direction, with noise; the
attackers add a second direction of their own, in the low frequencies of every tensor.

Run once:  python3 make_freqfed_fixture.py > freqfed.json   (numpy, scipy, scikit-learn >= 1.3)"""
import json

import numpy as np
import scipy
import sklearn
from scipy.fft import dctn
from sklearn.cluster import HDBSCAN

SHAPES = [(260, 2), (6, 5), (7,), (3, 4, 2), (16,)]


def as_matrix(x, shape):
    return x.reshape(1, -1) if len(shape) == 1 else x.reshape(shape[0], -1)


def fingerprint(update):
    parts, offset = [], 0
    for shape in SHAPES:
        size = int(np.prod(shape))
        matrix = as_matrix(update[offset:offset + size], shape)
        offset += size
        coefficients = dctn(matrix, type=2, norm="ortho")
        p, q = coefficients.shape
        cutoff = max(p, q) // 2
        u, v = np.indices((p, q))
        parts.append(coefficients[(u + v) <= cutoff])  # row-major order
    return np.concatenate(parts)


def cosine_distances(vectors):
    norms = np.linalg.norm(vectors, axis=1)
    distances = np.ones((len(vectors), len(vectors)))
    for i in range(len(vectors)):
        for j in range(len(vectors)):
            if i == j:
                distances[i, j] = 0
            elif norms[i] > 0 and norms[j] > 0:
                distances[i, j] = 1 - vectors[i] @ vectors[j] / (norms[i] * norms[j])
    return distances


def short(array):
    """Seven significant digits (the test's tolerance is 1e-4), so the file stays small."""
    return np.vectorize(lambda x: float("%.7g" % x), otypes=[float])(array).tolist()


def case(rng, clients, attackers, honest_noise, attack_strength, with_fingerprints=False):
    size = sum(int(np.prod(s)) for s in SHAPES)
    direction = rng.normal(0, 1, size)
    attack = rng.normal(0, 1, size)
    updates = [direction + rng.normal(0, honest_noise, size) for _ in range(clients - attackers)]
    updates += [direction + attack_strength * attack + rng.normal(0, honest_noise, size) for _ in range(attackers)]
    # Three decimals, so that the JSON is short and reads back as the same float32 the reference computed with.
    decimals = np.round(np.asarray(updates), 3)
    updates = decimals.astype(np.float32).astype(np.float64)
    counts = rng.randint(5, 60, clients)
    vectors = np.asarray([fingerprint(u) for u in updates])
    distances = cosine_distances(vectors)
    labels = HDBSCAN(min_cluster_size=clients // 2 + 1, min_samples=1, allow_single_cluster=True,
                     metric="precomputed", copy=True).fit(distances).labels_
    clusters = [c for c in set(labels.tolist()) if c >= 0]
    assert clusters, "HDBSCAN found no cluster"
    largest = max(clusters, key=lambda c: (np.sum(labels == c), -c))
    kept = np.nonzero(labels == largest)[0]
    weights = counts[kept].astype(np.float64)
    aggregate = (weights[:, None] * updates[kept]).sum(0) / weights.sum()
    result = {"updates": decimals.tolist(), "counts": counts.tolist(), "attackers": list(range(clients - attackers, clients)),
              "kept": kept.tolist(), "expected": short(aggregate)}
    if with_fingerprints:
        result["fingerprints"] = short(vectors)
    return result


rng = np.random.RandomState(2028)
cases = [case(rng, 10, 3, 0.6, 1.2, with_fingerprints=True), case(rng, 11, 0, 0.8, 0.0), case(rng, 12, 4, 0.7, 0.9), case(rng, 9, 1, 0.5, 2.0)]
print(json.dumps({"numpy_version": np.__version__, "scipy_version": scipy.__version__, "sklearn_version": sklearn.__version__,
                  "shapes": [list(s) for s in SHAPES], "cases": cases}))
