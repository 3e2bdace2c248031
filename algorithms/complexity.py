"""Capacity and generalisation measurements: Rademacher complexity, uniform-
convergence bounds, the one-sided uniform-convergence value, the complexity
measures of Jiang et al.'s table, a bias-variance decomposition, parameter counts.

Family ``measurement`` (``algorithms.contracts``). Network weights are lists of
numpy matrices X_1, ..., X_L with X_l of shape (fan_out, fan_in), no biases (the
tutorial's "L-Layer NN").

Tutorial slides "Generalization guarantees: Rademacher complexity",
"uniform convergence", "Complexity measures" (Jiang et al., ICLR 2020).
"""
from __future__ import annotations

import itertools
from typing import Callable, Sequence

import numpy as np

from algorithms.registry import register


# ------------------------------------------------------------ Rademacher complexity
def empirical_rademacher(sup_correlation: Callable[[np.ndarray], np.ndarray], n: int, num_draws: int,
                         rng: np.random.Generator):
    """Monte Carlo estimate of the empirical Rademacher complexity (Bartlett and
    Mendelson, JMLR 2002)

        R_A(H) = E_v sup_{h in H} (1/n) sum_i v_i h(a_i),   v_i iid uniform on {-1, +1},

    with ``sup_correlation(v)`` returning sup_h (1/n) <v, h(A)> for each row of v
    (num_draws, n). Returns (estimate, standard error of the mean)."""
    v = rng.choice(np.array([-1.0, 1.0]), size=(int(num_draws), int(n)))
    s = np.asarray(sup_correlation(v), dtype=float)
    return float(s.mean()), float(s.std(ddof=1) / np.sqrt(len(s)))


def rademacher_exact_enumeration(sup_correlation: Callable[[np.ndarray], np.ndarray], n: int):
    """The same expectation computed exactly over all 2^n sign vectors (n <= 20)."""
    if n > 20:
        raise ValueError(f"n = {n}: exact enumeration of 2^n sign vectors is for n <= 20; use empirical_rademacher")
    v = np.array(list(itertools.product((-1.0, 1.0), repeat=int(n))))
    return float(np.mean(sup_correlation(v)))


def linear_class_sup(a: np.ndarray, radius: float) -> Callable[[np.ndarray], np.ndarray]:
    """sup over {x -> <w, x> : ||w||_2 <= radius} of (1/n) sum_i v_i <w, a_i> = radius ||A^T v|| / n
    (Cauchy-Schwarz, attained at w = radius A^T v/||A^T v||): the closed form for linear classes."""
    a = np.asarray(a, dtype=float)
    return lambda v: radius * np.linalg.norm(np.asarray(v) @ a, axis=-1) / a.shape[0]


def finite_class_sup(outputs: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """sup over a finite class given its outputs H (K, n): max_k (1/n) <v, H_k>."""
    h = np.asarray(outputs, dtype=float)
    return lambda v: np.max(np.asarray(v) @ h.T, axis=-1) / h.shape[1]


def hoeffding_union_bound(n, class_size, delta):
    """Finite class, loss in [0, 1]: with probability >= 1 - delta,
    sup_h |R(h) - R_n(h)| <= sqrt(log(2 |H| / delta) / (2 n))   (Hoeffding + union bound)."""
    return np.sqrt(np.log(2.0 * np.asarray(class_size, float) / delta) / (2.0 * np.asarray(n, float)))


# ---------------------------------------------------- one-sided uniform convergence
def one_sided_uniform_convergence(x, y, spectrum, w_star, radius):
    """sup { (w - w*)^T Sigma (w - w*) : X w = y, ||w||_2 <= radius } (Zhou, Sutherland,
    Srebro, NeurIPS 2020; Sigma = diag(spectrum)): the worst excess risk over the
    interpolators in the ball. With w = w_mn + N z (N an orthonormal null-space basis,
    w_mn the min-norm interpolator, orthogonal to it) this is the trust-region problem
    max_{||z|| <= r} z^T Q z + 2 g^T z + c, Q = N^T Sigma N >= 0, r^2 = radius^2 - ||w_mn||^2,
    whose global maximiser solves (mu I - Q) z = g, mu >= lambda_max(Q), ||z|| = r
    (Gay 1981; More and Sorensen 1983), found by bisection on the secular equation.
    Returns (value, maximiser w, multiplier mu); raises if no interpolator has norm <= radius."""
    x, y, lam = np.asarray(x, float), np.asarray(y, float), np.asarray(spectrum, float)
    u, s, vt = np.linalg.svd(x)
    rank = int(np.sum(s > s[0] * max(x.shape) * np.finfo(float).eps))
    w_mn = vt[:rank].T @ ((u[:, :rank].T @ y) / s[:rank])
    r2 = float(radius) ** 2 - float(w_mn @ w_mn)
    if r2 < 0:
        raise ValueError(f"radius {radius:g} is below the minimum interpolating norm {np.linalg.norm(w_mn):g}")
    null = vt[rank:].T
    c = w_mn - np.asarray(w_star, float)
    q = null.T @ (lam[:, None] * null)
    g = null.T @ (lam * c)
    ev, evec = np.linalg.eigh(q)
    gam = evec.T @ g
    top = ev[-1]
    tol = 1e-12 * max(top, 1e-300)
    hard_part = np.abs(ev - top) <= tol
    z_norm2 = lambda mu: float(np.sum(gam[~hard_part] ** 2 / (mu - ev[~hard_part]) ** 2))  # noqa: E731
    if np.all(np.abs(gam[hard_part]) <= 1e-14 * max(1.0, np.abs(gam).max())) and z_norm2(top) <= r2:
        mu = top  # hard case: fill the remaining norm along the top eigenvector
        zc = np.where(hard_part, 0.0, gam / np.where(hard_part, 1.0, ev - mu))
        zc[np.argmax(hard_part)] = np.sqrt(max(r2 - z_norm2(mu), 0.0))
    else:
        lo, hi = top, top + np.sqrt(float(gam @ gam) / max(r2, 1e-300)) + tol
        for _ in range(200):  # ||z(mu)|| decreases on (top, inf); bisection to machine precision
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.sum(gam**2 / (mid - ev) ** 2) > r2 else (lo, mid)
        mu = hi
        zc = gam / (mu - ev)
    w = w_mn + null @ (evec @ zc)
    return float((w - w_star) @ (lam * (w - w_star))), w, float(mu)


# ------------------------------------------------------------ bias and variance
def bias_variance_decomposition(predictions, targets):
    """Over T independent repetitions (axis -2) of a randomised estimator, at m test
    points (axis -1) with targets y:

        variance_x = Var_T f(x)  (ddof 1, unbiased),
        bias2_x    = (mean_T f(x) - y(x))^2 - variance_x / T  (unbiased for (E f(x) - y(x))^2).

    Returns a dict of the means over x ("bias2", "variance") and the per-point arrays."""
    f = np.asarray(predictions, float)
    t = f.shape[-2]
    var_x = f.var(axis=-2, ddof=1)
    bias_x = (f.mean(axis=-2) - np.asarray(targets, float)) ** 2 - var_x / t
    return {"bias2": bias_x.mean(-1), "variance": var_x.mean(-1), "bias2_per_point": bias_x,
            "variance_per_point": var_x}


# ------------------------------------------------------- Jiang et al.'s measures
def frobenius_distance_to_init(weights: Sequence[np.ndarray], initial: Sequence[np.ndarray]) -> float:
    """sum_i ||X_i - X_i^0||_F^2 (Nagarajan and Kolter 2019)."""
    return float(sum(np.sum((np.asarray(w) - np.asarray(w0)) ** 2) for w, w0 in zip(weights, initial)))


def parameter_frobenius_norm(weights: Sequence[np.ndarray]) -> float:
    """sum_i ||X_i||_F^2."""
    return float(sum(np.sum(np.asarray(w) ** 2) for w in weights))


def path_norm(weights: Sequence[np.ndarray]) -> float:
    """sum over input-output paths of prod_j (X_{i_j, i_{j-1}})^2 (Neyshabur, Salakhutdinov,
    Srebro 2015): one forward pass of the all-ones input through the network with
    squared weights and identity activations, summed over outputs."""
    h = np.ones(np.asarray(weights[0]).shape[1])
    for w in weights:
        h = (np.asarray(w) ** 2) @ h
    return float(h.sum())


def _two_one_norm(a: np.ndarray) -> float:
    """||A||_{2,1} = sum over columns of their l2 norms (Bartlett, Foster, Telgarsky's convention)."""
    return float(np.linalg.norm(a, axis=0).sum())


def spectral_complexity(weights: Sequence[np.ndarray], reference: Sequence[np.ndarray] | None = None) -> float:
    """Bartlett, Foster, Telgarsky (NeurIPS 2017), 1-Lipschitz activations:

        R = prod_i ||A_i||_sigma * ( sum_i ||A_i^T - M_i^T||_{2,1}^{2/3} / ||A_i||_sigma^{2/3} )^{3/2},

    ||.||_sigma the spectral norm, reference matrices M_i (default 0)."""
    ws = [np.asarray(w, float) for w in weights]
    refs = [np.zeros_like(w) for w in ws] if reference is None else [np.asarray(m, float) for m in reference]
    spec = [np.linalg.norm(w, 2) for w in ws]
    inner = sum(_two_one_norm((w - m).T) ** (2 / 3) / s ** (2 / 3) for w, m, s in zip(ws, refs, spec))
    return float(np.prod(spec) * inner ** 1.5)


def spectral_orig(weights: Sequence[np.ndarray], margin: float = 1.0) -> float:
    """Jiang, Neyshabur, Mobahi, Krishnan, Bengio (ICLR 2020), "spec-orig" (the margin version
    of their main text; numbered 30 in Dziugaite et al.'s 2020 re-implementation):

        mu = prod_i ||W_i||_2^2 * sum_i ||W_i||_F^2 / ||W_i||_2^2  /  gamma^2,

    Bartlett et al.'s bound with the (2,1)-norms replaced by Frobenius norms (Neyshabur et al.
    2018), squared; gamma the margin (Jiang et al.: the 10th percentile of the training margins)."""
    ws = [np.asarray(w, float) for w in weights]
    spec2 = [np.linalg.norm(w, 2) ** 2 for w in ws]
    return float(np.prod(spec2) * sum(np.sum(w**2) / s for w, s in zip(ws, spec2)) / float(margin) ** 2)


# ---------------------------------------------------------------- model sizes
def resnet_parameter_count(blocks=(3, 8, 36, 3), num_classes=1000, width=64, expansion=4):
    """Trainable parameters of a bottleneck ResNet (He et al., CVPR 2016; ResNet-152 is
    blocks (3, 8, 36, 3)): 7x7 stem conv + BN, per bottleneck 1x1 -> 3x3 -> 1x1
    convolutions without bias, each followed by BN (2 parameters per channel), a
    1x1 projection + BN on the first block of each stage, and a linear classifier."""
    count = 3 * width * 7 * 7 + 2 * width  # stem conv + BN
    in_ch = width
    for stage, num in enumerate(blocks):
        mid = width * 2**stage
        out = mid * expansion
        for b in range(num):
            count += in_ch * mid + 2 * mid + 9 * mid * mid + 2 * mid + mid * out + 2 * out
            if b == 0:
                count += in_ch * out + 2 * out  # projection shortcut
            in_ch = out
    return count + in_ch * num_classes + num_classes


# Registered by a call, not a decorator, so that mutation testing reaches the bodies (CONTRIBUTING).
register("empirical_rademacher", family="measurement")(empirical_rademacher)
register("rademacher_exact_enumeration", family="measurement")(rademacher_exact_enumeration)
register("hoeffding_union_bound", family="measurement")(hoeffding_union_bound)
register("one_sided_uniform_convergence", family="measurement")(one_sided_uniform_convergence)
register("bias_variance_decomposition", family="measurement")(bias_variance_decomposition)
register("frobenius_distance_to_init", family="measurement")(frobenius_distance_to_init)
register("parameter_frobenius_norm", family="measurement")(parameter_frobenius_norm)
register("path_norm", family="measurement")(path_norm)
register("spectral_complexity", family="measurement")(spectral_complexity)
register("spectral_orig", family="measurement")(spectral_orig)
register("resnet_parameter_count", family="measurement")(resnet_parameter_count)
