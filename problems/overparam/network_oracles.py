"""Exact oracles for the network claims: the initialisation table as printed, signal
propagation at initialisation, the ball/sphere projection constants of perturbation
stability, Du et al.'s Gram matrix H^∞, Luo et al.'s phase-diagram coordinates, and the
data sets (points on spheres, digits, planted separations).

Nothing here imports ``algorithms``: these are the independent references the checks
compare the implementations under test with.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Callable

import numpy as np
from scipy.special import gammaln

def derived_seed(*parts: Any) -> int:
    """A fixed seed derived from (claim, instance, repetition, …): stable across runs and
    machines (crc32 of the parts' text), different for every tuple; shifted by ``--gbu-seed``
    (``problems.runtime``)."""
    import zlib

    from problems.runtime import shifted

    return zlib.crc32(shifted("|".join(str(x) for x in parts)).encode()) & 0x7FFFFFFF


# --------------------------------------------------------------- the table
#: The tutorial's table, as printed: scheme -> (β₁², β², β_L², α) as functions of (p, m).
INIT_TABLE: dict[str, tuple[Callable[[Any, Any], Any], ...]] = {
    "lecun": (lambda p, m: 1 / p, lambda p, m: 1 / m, lambda p, m: 1 / m, lambda p, m: 1),
    "he": (lambda p, m: 2 / p, lambda p, m: 2 / m, lambda p, m: 2 / m, lambda p, m: 1),
    "ntk": (lambda p, m: 2 / m, lambda p, m: 2 / m, lambda p, m: 1, lambda p, m: 1),
    "xavier": (lambda p, m: 2 / (m + p), lambda p, m: 1 / m, lambda p, m: 2 / (m + 1), lambda p, m: 1),
    "mean_field": (lambda p, m: 1, lambda p, m: 1, lambda p, m: 1, lambda p, m: m),
    "e_et_al": (lambda p, m: 1, lambda p, m: 1, lambda p, m: 1, lambda p, m: 1),  # β_c² := 1
}
TABLE_SCHEMES = tuple(INIT_TABLE)
#: Luo et al.'s regimes of the table's rows, as the tutorial's figures place them.
TUTORIAL_REGIMES = {"lecun": "linear", "he": "linear", "ntk": "linear",
                    "xavier": "critical", "mean_field": "critical"}


def table_variances(scheme: str, p: Any, m: Any) -> tuple[Any, Any, Any, Any]:
    """(β₁², β², β_L², α) of ``scheme`` as the tutorial prints them."""
    if scheme not in INIT_TABLE:
        raise KeyError(f"unknown scheme {scheme!r}; the table has {', '.join(INIT_TABLE)}")
    return tuple(f(p, m) for f in INIT_TABLE[scheme])


def numpy_forward(weights: list[np.ndarray], alpha: np.ndarray, inputs: np.ndarray,
                  output_relu: bool = False) -> np.ndarray:
    """The L-layer network in plain numpy, one network at a time (an independent second
    route for the torch implementation): weights [(B, m, p), …, (B, 1, m)], alpha (B,),
    inputs (n, p) -> (B, n)."""
    out = []
    for b in range(weights[0].shape[0]):
        h = np.asarray(inputs, dtype=float).T  # (p, n): columns are inputs
        for X in weights[:-1]:
            h = np.maximum(X[b] @ h, 0.0)
        o = (weights[-1][b] @ h)[0]
        out.append((np.maximum(o, 0.0) if output_relu else o) / alpha[b])
    return np.stack(out)


# ------------------------------------------ the table's sources, independently of it
def torch_init_variance(init: Callable[..., Any], shape: tuple[int, int], **options: Any) -> float:
    """The variance torch.nn.init's ``init`` (e.g. ``kaiming_normal_``) gives a weight of ``shape``
    (out, in), read off torch's own code: its draw divided by a standard normal draw from the same
    generator state is the standard deviation it used (constant to rounding)."""
    import torch

    z = torch.empty(shape, dtype=torch.float64).normal_(0.0, 1.0, generator=torch.Generator().manual_seed(0))
    w = init(torch.empty(shape, dtype=torch.float64), generator=torch.Generator().manual_seed(0), **options)
    ratio = (w / z).flatten()
    if not torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-14, atol=0.0):
        raise ValueError(f"{getattr(init, '__name__', init)} is not a scaled standard normal draw")
    return float(ratio[0]) ** 2


#: Where each row's variances come from (the papers, and torch.nn.init where it implements them).
INIT_SOURCES = {
    "lecun": "LeCun, Bottou, Orr, Mueller 1998, 'Efficient BackProp': Var = 1/fan_in "
             "(torch.nn.init.kaiming_normal_, mode='fan_in', nonlinearity='linear')",
    "he": "He, Zhang, Ren, Sun ICCV 2015: Var = 2/fan_in (torch.nn.init.kaiming_normal_, mode='fan_in', "
          "nonlinearity='relu')",
    "ntk": "Allen-Zhu, Li, Song ICML 2019: A, W_l ~ N(0, 2/m), B ~ N(0, 1/d) with d = 1 output "
           "(torch.nn.init.kaiming_normal_, mode='fan_out', nonlinearity 'relu' then 'linear')",
    "xavier": "Glorot & Bengio AISTATS 2010: Var = 2/(fan_in + fan_out) (torch.nn.init.xavier_normal_)",
    "mean_field": "Mei, Montanari, Nguyen PNAS 2018: theta_i iid from a fixed law (N(0, I)) and the output "
                  "averaged, (1/N) sum: variances 1, alpha = m",
}


def reference_init_variances(scheme: str, p: int, m: int) -> tuple[float, float, float, float]:
    """(beta_1^2, beta^2, beta_L^2, alpha) of ``scheme`` from its source (``INIT_SOURCES``), not from
    the tutorial's table: torch.nn.init for the fan-based rules, the paper's formula otherwise.
    Layers in torch's (out, in) convention: X_1 (m, p), X_l (m, m), X_L (1, m). E et al.'s row has
    no source to check against (its beta_c is undefined on the slide): KeyError."""
    import torch

    init = torch.nn.init
    shapes = ((m, p), (m, m), (1, m))
    if scheme == "lecun":
        return (*(torch_init_variance(init.kaiming_normal_, s, mode="fan_in", nonlinearity="linear")
                  for s in shapes), 1.0)
    if scheme == "he":
        return (*(torch_init_variance(init.kaiming_normal_, s, mode="fan_in", nonlinearity="relu")
                  for s in shapes), 1.0)
    if scheme == "xavier":
        return (*(torch_init_variance(init.xavier_normal_, s) for s in shapes), 1.0)
    if scheme == "ntk":
        hidden = [torch_init_variance(init.kaiming_normal_, s, mode="fan_out", nonlinearity="relu")
                  for s in shapes[:2]]
        return (*hidden, torch_init_variance(init.kaiming_normal_, shapes[2], mode="fan_out",
                                             nonlinearity="linear"), 1.0)
    if scheme == "mean_field":
        return (*(torch_init_variance(init.normal_, s, std=1.0) for s in shapes), float(m))
    raise KeyError(f"scheme {scheme!r} has no independent source (known: {', '.join(INIT_SOURCES)})")


# ------------------------------------------------------ signal propagation
def expected_input_gradient_sq(b1: float, b: float, bL: float, alpha: float, p: int, m: int,
                               depth: int, output_relu: bool = False) -> float:
    """E‖∇ₐh‖² at initialisation, for any fixed input a ≠ 0:

        E‖∇ₐh‖² = m β_L² · (m β²/2)^{L−2} · (p β₁²/2) / α²      (linear read-out),

    halved with the output ReLU (the output is dead with probability ½). Exact at every
    width: each ReLU layer keeps E[w² 1(wᵀh > 0)] = β²/2 by the symmetry w ↦ −w, and
    the cross terms vanish by the symmetry of the layers above (He et al. 2015; Hanin,
    NeurIPS 2018, Thm 1)."""
    value = m * bL * (m * b / 2) ** (depth - 2) * (p * b1 / 2) / alpha**2
    return value / 2 if output_relu else value


def input_gradient_cv_bound(p: int, m: int, L: int, output_relu: bool = False) -> float:
    """Bound on the coefficient of variation, over networks, of ‖∇ₐh(a)‖² (or its mean over inputs) for a
    ReLU net of depth L, width m, input dimension p, Gaussian weights (any of the table's scales): for one
    input E[X²]/E[X]² = (1 + 2/p) ∏ over the L − 1 ReLU layers (1 + 5/m + O(m⁻²)) (a χ²_p input factor; per
    layer a χ²_k with k ~ Bin(m, ½) active units, 1 + 4/m + 1/m; Hanin 2018, Hanin and Nica 2020), ×2 with
    the output ReLU (a Bernoulli(½) gate); averaging over inputs only lowers it. Taken as
    (1 + 2/p) e^{5(L−1)/m} (×2). Measured (CV / bound): 0.56-0.69 with 4000 nets at 36 corners of
    L ∈ {2, 3, 5}, m ∈ {16, 40}, p ∈ {2, 8, 32}, output ReLU or not; <= 0.62 with 1024-4096 nets at
    p = 64, m ∈ {16, 64, 256}, L ∈ {2, 6, 10}. Used for Monte Carlo standard errors where the sample SD of a
    heavy-tailed law understates the spread."""
    return math.sqrt((1 + 2 / p) * math.exp(5 * (L - 1) / m) * (2 if output_relu else 1) - 1)


def ball_projection_constant(p: int) -> float:
    """c_p = E|u₁| for u uniform in the unit ℓ₂ ball of ℝ^p = Γ(p/2+1)/(√π Γ((p+3)/2)),
    so that E_δ|gᵀδ| = ε c_p ‖g‖₂ for δ uniform in the ball of radius ε."""
    return math.exp(gammaln(p / 2 + 1) - gammaln((p + 3) / 2)) / math.sqrt(math.pi)


def sphere_projection_constant(p: int) -> float:
    """E|u₁| for u uniform on the unit sphere S^{p−1} = Γ(p/2)/(√π Γ((p+1)/2));
    larger than the ball's by the factor (p+1)/p (E‖δ‖ = ε p/(p+1) in the ball)."""
    return math.exp(gammaln(p / 2) - gammaln((p + 1) / 2)) / math.sqrt(math.pi)


# ---------------------------------------------------------- Du et al.
def du_gram_infinity(X: np.ndarray) -> np.ndarray:
    """H^∞_ij = E_w[x_iᵀx_j 1(wᵀx_i ≥ 0, wᵀx_j ≥ 0)] = x_iᵀx_j (π − θ_ij)/(2π), θ_ij the
    angle between x_i and x_j (Du, Zhai, Póczos, Singh, ICLR 2019, eq. (4)); the angle of
    the *normalised* inputs, so the formula holds off the unit sphere too."""
    X = np.asarray(X, dtype=float)
    U = X / np.linalg.norm(X, axis=-1, keepdims=True)
    # theta = 2 atan2(|u_i - u_j|, |u_i + u_j|), accurate to ~eps at every angle; arccos of the
    # rounded cosine is off by sqrt(2 eps) ~ 2e-8 near theta = 0, which gave a duplicated input
    # lambda_0 ~ 1e-9 instead of 0 (and the diagonal theta_ii ~ 2e-8 instead of 0)
    theta = 2 * np.arctan2(np.linalg.norm(U[:, None] - U[None], axis=-1),
                           np.linalg.norm(U[:, None] + U[None], axis=-1))
    return (X @ X.T) * (np.pi - theta) / (2 * np.pi)


def du_lambda0(X: np.ndarray) -> float:
    """λ₀ = λ_min(H^∞)."""
    return float(np.linalg.eigvalsh(du_gram_infinity(X))[0])


def du_drift_radius(n: int, m: int, initial_residual: float, lam0: float) -> float:
    """R′ = 4√n ‖y − u(0)‖ / (√m λ₀): Du et al.'s bound on max_r ‖w_r(k) − w_r(0)‖ (Thm 4.1)."""
    return 4 * math.sqrt(n) * initial_residual / (math.sqrt(m) * lam0)


# ------------------------------------------------------------- phase diagram
def luo_coordinates(variances: Callable[[Any, Any], tuple[Any, Any, Any, Any]]) -> tuple[Any, Any]:
    """Luo, Xu, Ma, Zhang (JMLR 2021) coordinates of a two-layer scheme, by sympy limits:

        γ  = lim_{m→∞} −log(β_out β_in / α) / log m,     γ′ = lim −log(β_out / β_in) / log m,

    (evaluated as lim −m f′(m)/f(m), equal by L'Hôpital),

    with β_in² = β₁² (input layer) and β_out² = β_L² (read-out) of ``variances(p, m)``;
    p is held fixed (a positive symbol)."""
    import sympy as sp

    m = sp.Symbol("m", positive=True)
    p = sp.Symbol("p", positive=True)
    b1, _, bL, alpha = (sp.sympify(v) for v in variances(p, m))
    beta_in, beta_out = sp.sqrt(b1), sp.sqrt(bL)

    def exponent(f):
        # lim −log f / log m = lim −m f′/f (L'Hôpital, both → ±∞ or both finite for the power-like
        # scalings of the table); the derivative form is ≈ 4× faster in sympy
        return sp.limit(-m * sp.diff(f, m) / f, m, sp.oo)

    return sp.nsimplify(exponent(beta_out * beta_in / alpha)), sp.nsimplify(exponent(beta_out / beta_in))


def luo_regime(gamma: Any, gamma_prime: Any) -> str:
    """Linear if γ < 1 or γ′ > γ − 1; condensed if γ > 1 and γ′ < γ − 1; critical on the
    boundary (Luo et al. 2021, Fig. 1; the γ > 1 boundary γ′ = γ − 1 is from the paper's
    figure as we recall it — every table row has γ ≤ 1, where only γ < 1 vs γ = 1 matters)."""
    if gamma < 1 or gamma_prime > gamma - 1:
        return "linear"
    if gamma > 1 and gamma_prime < gamma - 1:
        return "condensed"
    return "critical"


# ------------------------------------------------------------------- data
def sphere_points(n: int, d: int, seed: int, min_angle_cos: float = 0.99) -> np.ndarray:
    """n points uniform on S^{d−1}, redrawn until no two are (anti)parallel within
    |x_iᵀx_j| ≤ ``min_angle_cos`` (Du et al.'s non-parallel assumption)."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        X = rng.standard_normal((n, d))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        G = np.abs(X @ X.T) - 2 * np.eye(n)
        if G.max() <= min_angle_cos:
            return X
    raise ValueError(f"could not draw {n} pairwise non-parallel points on S^{d - 1}; lower n or raise d")


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits: X (1797, 64) in [0, 1] (pixels/16), y (1797,) in 0..9."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = data.data.astype(float) / 16.0
    X.setflags(write=False)
    y = data.target.astype(int)
    y.setflags(write=False)
    return X, y


def digits_split(n_train: int = 1200, seed: int = 0) -> tuple[np.ndarray, ...]:
    """A fixed random split of digits: (X_train, y_train, X_test, y_test)."""
    X, y = digits()
    perm = np.random.default_rng(seed).permutation(len(y))
    tr, te = perm[:n_train], perm[n_train:]
    return X[tr], y[tr], X[te], y[te]


def mnist1d_or_skip_reason() -> tuple[Any, str]:
    """(mnist1d module, "") if installed, else (None, reason)."""
    try:
        import mnist1d  # noqa: F401
    except ImportError:
        return None, ("mnist1d is not installed in this environment (pip install mnist1d==0.0.2.post1; "
                      "generate with make_dataset, never download)")
    return mnist1d, ""


def planted_separation(n_per_class: int, p: int, separation: float, seed: int,
                       norm: str = "linf") -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Two labelled point clouds whose minimum distance between differently-labelled points
    is exactly ``separation`` in ``norm`` ('linf' or 'l2'), attained by a planted pair.

    Class 0 lives in {x₁ ≤ 0}, class 1 in {x₁ ≥ s} (s = separation), every other
    coordinate in [0, 1]; so |x₁ − x₁′| ≥ s bounds both the ℓ∞ and the ℓ₂ distance below by
    s. The planted pair (0, s) × (c, c) shares all other coordinates, so its distance is s in
    any norm. Returns (X, y, (i, j)) with the planted pair's indices."""
    if norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2', got {norm!r}")
    rng = np.random.default_rng(seed)
    X0 = rng.uniform(0, 1, (n_per_class, p))
    X1 = rng.uniform(0, 1, (n_per_class, p))
    X0[:, 0] = -rng.uniform(0, 1, n_per_class) * max(separation, 0.1)
    X1[:, 0] = separation + rng.uniform(0, 1, n_per_class) * max(separation, 0.1)
    X0[0, 0], X1[0, 0] = 0.0, separation
    X1[0, 1:] = X0[0, 1:]
    X = np.concatenate([X0, X1])
    y = np.concatenate([np.zeros(n_per_class, int), np.ones(n_per_class, int)])
    return X, y, (0, n_per_class)


def brute_force_separation(X: np.ndarray, y: np.ndarray, norm: str = "linf") -> float:
    """min over differently-labelled pairs of ‖x_i − x_j‖, by explicit enumeration (small n)."""
    ordv = np.inf if norm == "linf" else 2
    best = np.inf
    for i in range(len(y)):
        for j in range(i + 1, len(y)):
            if y[i] != y[j]:
                best = min(best, float(np.linalg.norm(X[i] - X[j], ord=ordv)))
    return best
