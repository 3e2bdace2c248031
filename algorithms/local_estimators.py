"""Local-averaging estimators: k-NN, Nadaraya-Watson, simplicial (linear)
interpolation, random forests.

Family ``estimator`` (``algorithms.contracts``): ``rule(x_train, y_train,
x_test, ...) -> predictions at x_test``; inputs of shape (n, p) or (n,) for 1-D.

Tutorial slide "Benign, tempered, or catastrophic overfitting" (Mallinar,
Simon, Abedsoltan, Pandit, Belkin, Nakkiran, NeurIPS 2022) and "Double descent
curve in practice (I)" (random forests, Belkin et al., PNAS 2019).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from algorithms.registry import register


def _points(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[:, None] if x.ndim == 1 else x


def k_nearest_neighbours(x_train, y_train, x_test, k):
    """f(x) = (1/k) sum of y_i over the k training points nearest to x (Euclidean);
    interpolates the training labels only for k = 1."""
    k = int(k)
    if k < 1:
        raise ValueError(f"k = {k}: need k >= 1")
    _, idx = cKDTree(_points(x_train)).query(_points(x_test), k=k)
    idx = idx.reshape(len(idx), k)
    return np.asarray(y_train, float)[idx].mean(axis=1)


def nadaraya_watson(x_train, y_train, x_test, power=None, chunk=512):
    """Nadaraya-Watson smoothing with the singular ("Hilbert") kernel
    K(u) = ||u||^{-power}, power = input dimension d by default (Devroye, Gyorfi,
    Krzyzak, J. Multivariate Anal. 1998: interpolating yet consistent):

        f(x) = sum_i K(x - x_i) y_i / sum_i K(x - x_i),   f(x_i) = y_i."""
    xt, xe = _points(x_train), _points(x_test)
    y = np.asarray(y_train, float)
    power = xt.shape[1] if power is None else float(power)
    out = np.empty(len(xe))
    for s in range(0, len(xe), chunk):
        d = np.linalg.norm(xe[s:s + chunk, None, :] - xt[None], axis=-1)  # direct differences: no cancellation
        hit = d == 0
        with np.errstate(divide="ignore"):
            w = np.where(hit, 0.0, d ** (-power))
        pred = (w @ y) / w.sum(1)
        rows = hit.any(1)
        pred[rows] = y[np.argmax(hit[rows], axis=1)]  # at a training point: its own label
        out[s:s + chunk] = pred
    return out


def linear_interpolation(x_train, y_train, x_test):
    """1-D simplicial interpolation: piecewise-linear through the sorted training
    points, constant beyond the extreme points."""
    x = np.asarray(x_train, float).ravel()
    order = np.argsort(x)
    return np.interp(np.asarray(x_test, float).ravel(), x[order], np.asarray(y_train, float).ravel()[order])


def random_forest_classifier(x_train, y_train, x_test, num_trees, max_leaf_nodes, seed, proba=False):
    """Belkin et al.'s forests: scikit-learn's RandomForestClassifier without
    bootstrap, max_features = sqrt(p), each tree grown to at most ``max_leaf_nodes``
    leaves. Returns (train predictions, test predictions); with ``proba`` the
    predicted class probabilities instead (the average over trees of each leaf's class
    frequencies), columns = the classes 0..max label of ``y_train``."""
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=int(num_trees), max_leaf_nodes=int(max_leaf_nodes),
                                   bootstrap=False, max_features="sqrt", random_state=int(seed) % 2**32)
    model.fit(x_train, y_train)
    if not proba:
        return model.predict(x_train), model.predict(x_test)
    classes = int(np.max(y_train)) + 1
    out = []
    for x in (x_train, x_test):
        p = np.zeros((len(x), classes))
        p[:, model.classes_.astype(int)] = model.predict_proba(x)
        out.append(p)
    return out[0], out[1]


# Registered by a call, not a decorator, so that mutation testing reaches the bodies (CONTRIBUTING).
register("k_nearest_neighbours", family="estimator")(k_nearest_neighbours)
register("nadaraya_watson", family="estimator")(nadaraya_watson)
register("linear_interpolation", family="estimator")(linear_interpolation)
register("random_forest_classifier", family="estimator")(random_forest_classifier)
