"""Stochastic min-max problems V(z, zeta) = V(z) + U(z, zeta) with exact constants.

Tutorial slide "Solving stochastic weak MVIs without increasing batch size"
(Liu, Suykens, Cevher, ICASSP 2023, slide 39; Pethick, Fercoq, Latafat, Patrinos,
Cevher, ICLR 2023 [71]; the instances of LIONS-EPFL/stochastic-weak-minty-code).

Games (operators V(z) = (grad_x Phi, -grad_y Phi) on rows z of shape (B, d)):

* :class:`QuadraticGame`  Phi = a x.y + (b/2)(|x|^2 - |y|^2) with a = sqrt(L^2 - L^4 rho^2),
  b = L^2 rho: V(z) = [[b, a], [-a, b]] z is normal, with Lipschitz constant L and
  weak-Minty constant rho *exactly* (<V z, z> = b|z|^2, |V z|^2 = L^2 |z|^2).
* :class:`ConstrainedBilinear` Phi = (x - o).(y - o) on the box [-r, r]^(2n): monotone
  (rho = 0), L = 1, z* = (o, ..., o).
* :class:`PolynomialGame` GlobalForsaken and Forsaken from their closed forms, with the
  constants of the catalogue's section 1 (re-derived by checks/test_11_stochastic_minimax.py).

Noise models U(z, zeta) (``sample(rng, B, d)`` draws zeta, ``perturb(v, zeta)`` adds U):
Gaussian, bounded (uniform), heavy-tailed (Student t: finite q-th moments for q < dof),
multiplicative (U = sigma |V(z)| zeta, vanishing at every zero of V), and the two-point
"scaled Lipschitz" mixture of [71]'s runner (:func:`scaled_lipschitz_mixture`).

Seeds: :func:`seed_for` (claim, instance) -> one generator whose rows are the
repetitions, so S seeds run as one vectorised batch; repetition r is row r.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np

from problems.runtime import shifted

Array = np.ndarray


def seed_for(claim: str, instance: str, repetition: int | str = "batch") -> int:
    """A 63-bit seed derived from (claim, instance, repetition); stable across runs and machines,
    shifted by ``--gbu-seed`` (problems.runtime)."""
    digest = hashlib.sha256(shifted(f"{claim}|{instance}|{repetition}").encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


# ------------------------------------------------------------------ games
class _AffineGame:
    """V(z) = A z + c on rows z of shape (B, 2n); a subclass gives n, A and c."""

    @property
    def dim_x(self) -> int:
        return self.n

    @property
    def dim(self) -> int:
        return 2 * self.n

    def __call__(self, z: Array) -> Array:
        return z @ self._At + self.c

    @cached_property
    def _At(self) -> Array:
        return np.ascontiguousarray(self.A.T)

    def jacobian(self, z: Array) -> Array:
        return np.broadcast_to(self.A, (*np.shape(z), self.dim)).copy()


@dataclass(frozen=True, eq=False)
class QuadraticGame(_AffineGame):
    """Phi = a x.y + (b/2)(|x|^2 - |y|^2), x, y in R^n (runner's `quadratic` with the
    exact-constant scaling of the catalogue: a = sqrt(L^2 - L^4 rho^2), b = L^2 rho)."""

    L: float = 1.0
    rho: float = -0.1
    n: int = 1

    def __post_init__(self):
        if not (self.L > 0 and -1.0 <= self.rho * self.L <= 1.0):
            raise ValueError(f"need L > 0 and rho*L in [-1, 1]; got L={self.L}, rho={self.rho}")

    @property
    def a(self) -> float:
        return float(np.sqrt(self.L**2 - self.L**4 * self.rho**2))

    @property
    def b(self) -> float:
        return float(self.L**2 * self.rho)

    @cached_property
    def A(self) -> Array:
        eye = np.eye(self.n)
        return np.block([[self.b * eye, self.a * eye], [-self.a * eye, self.b * eye]])

    @cached_property
    def c(self) -> Array:
        return np.zeros(self.dim)

    @property
    def z_star(self) -> Array:
        return np.zeros(self.dim)

    def __call__(self, z: Array) -> Array:
        return z @ self._At  # c = 0


@dataclass(frozen=True, eq=False)
class ConstrainedBilinear(_AffineGame):
    """Phi = (x - o).(y - o) on [-r, r]^(2n) (runner's `bilinear`, offset o, `linf` projection):
    V(z) = (y - o, -(x - o)), monotone (rho = 0), L = 1; z* = (o, ..., o) if |o| <= r."""

    offset: float = 0.9
    radius: float = 1.0
    n: int = 1
    L: float = 1.0
    rho: float = 0.0

    @cached_property
    def A(self) -> Array:
        eye = np.eye(self.n)
        zero = np.zeros((self.n, self.n))
        return np.block([[zero, eye], [-eye, zero]])

    @cached_property
    def c(self) -> Array:
        return np.concatenate([-self.offset * np.ones(self.n), self.offset * np.ones(self.n)])

    @property
    def z_star(self) -> Array:
        return np.full(self.dim, self.offset)

    def project(self, z: Array) -> Array:
        """Euclidean projection on the box (the resolvent of its normal cone)."""
        return np.clip(z, -self.radius, self.radius)


def _horner(coeffs: dict[int, float]) -> Callable[[Array], Array]:
    """u -> sum_p coeffs[p] u^p by Horner's rule."""
    top = max(coeffs, default=0)
    dense = [coeffs.get(p, 0.0) for p in range(top, -1, -1)]

    def value(u: Array) -> Array:
        out = dense[0] * u + dense[1] if len(dense) > 1 else np.full_like(u, dense[0], dtype=float)
        for a in dense[2:]:
            out *= u
            out += a
        return out

    return value


def _derivative(coeffs: dict[int, float]) -> dict[int, float]:
    return {p - 1: c * p for p, c in coeffs.items() if p > 0}


@dataclass(frozen=True, eq=False)
class PolynomialGame:
    """Phi = x (y - shift) + phi(x) - phi(y), x, y scalars, phi a polynomial (coefficients by power).

    V(z) = (y - shift + phi'(x), -x + phi'(y)). ``constants`` are the catalogue's values
    (section 1), re-derived on a grid by the checks, never trusted blindly."""

    name: str
    phi: dict[int, float]
    shift: float = 0.0
    z_star: Array = field(default_factory=lambda: np.zeros(2))
    L: float = float("nan")
    rho: float = float("nan")
    domain: str = ""
    dim_x: int = 1
    dim: int = 2
    _swap_sign = np.array([1.0, -1.0])  # a class constant, not a field

    @cached_property
    def _d1(self) -> Callable[[Array], Array]:
        return _horner(_derivative(self.phi))

    @cached_property
    def _d2(self) -> Callable[[Array], Array]:
        return _horner(_derivative(_derivative(self.phi)))

    def __call__(self, z: Array) -> Array:
        # (V_x, V_y) = (phi'(x) + y - shift, phi'(y) - x), phi' applied to both columns at once
        out = self._d1(z)
        out += z[..., ::-1] * self._swap_sign
        out[..., 0] -= self.shift
        return out

    def jacobian(self, z: Array) -> Array:
        x, y = z[..., 0], z[..., 1]
        one = np.ones_like(x)
        return np.stack([np.stack([self._d2(x), one], -1), np.stack([-one, self._d2(y)], -1)], -2)

    def potential(self, z: Array) -> Array:
        x, y = z[..., 0], z[..., 1]
        p = _horner(self.phi)
        return x * (y - self.shift) + p(x) - p(y)


def global_forsaken() -> PolynomialGame:
    """GlobalForsaken (Pethick et al. ICLR 2022, App. C.4): Phi = xy + psi(x) - psi(y),
    psi(u) = u^2/3 - u^4/3 + 2u^6/21. z* = 0 (only stationary point), rho = -0.119732 at
    (1.0800, 0.1173), L = 2.868417 on the ball r = 4/3 (3.022398 on the box)."""
    return PolynomialGame("GlobalForsaken", {2: 1 / 3, 4: -1 / 3, 6: 2 / 21}, 0.0, np.zeros(2),
                          L=2.868417, rho=-0.119732, domain="ball r = 4/3")


def forsaken(shift: float = 0.45) -> PolynomialGame:
    """Forsaken (Hsieh, Mertikopoulos, Cevher ICML 2021): Phi = x(y - c) + phi(x) - phi(y),
    phi(u) = u^2/4 - u^4/2 + u^6/6, c = 0.45, box [-1.5, 1.5]^2: z* = (0.0780266687,
    0.4119338514), L = 12.402569, rho = -1.52057 < -1/(2L)."""
    if shift != 0.45:
        raise ValueError("only the papers' constant c = 0.45 carries catalogue constants")
    return PolynomialGame("Forsaken", {2: 1 / 4, 4: -1 / 2, 6: 1 / 6}, shift,
                          np.array([0.0780266687, 0.4119338514]), L=12.402569, rho=-1.52057,
                          domain="box [-1.5, 1.5]^2")


# ------------------------------------------------------------ noise models
@dataclass(frozen=True)
class NoNoise:
    """U = 0: the exact operator as an oracle (to read off a method's mean map)."""

    sigma: float = 0.0

    def sample(self, rng: np.random.Generator, batch: int, dim: int) -> Array:
        return np.zeros((batch, dim))

    def perturb(self, v: Array, zeta: Array) -> Array:
        return v


class _AdditiveNoise:
    """U = sigma zeta, zeta as the subclass draws it."""

    def perturb(self, v: Array, zeta: Array) -> Array:
        return v + self.sigma * zeta


@dataclass(frozen=True)
class GaussianNoise(_AdditiveNoise):
    """U = sigma zeta, zeta ~ N(0, I): unbiased, covariance sigma^2 I."""

    sigma: float

    def sample(self, rng: np.random.Generator, batch: int, dim: int) -> Array:
        return rng.standard_normal((batch, dim))


@dataclass(frozen=True)
class BoundedNoise(_AdditiveNoise):
    """U = sigma zeta, zeta uniform on [-sqrt 3, sqrt 3]^d: |U_i| <= sqrt(3) sigma, covariance sigma^2 I."""

    sigma: float

    def sample(self, rng: np.random.Generator, batch: int, dim: int) -> Array:
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), (batch, dim))


@dataclass(frozen=True)
class HeavyTailedNoise(_AdditiveNoise):
    """U = sigma zeta, zeta_i Student t with ``dof`` degrees of freedom: E|U|^q < inf iff q < dof.
    For dof > 2 zeta is rescaled to unit variance (covariance sigma^2 I); for dof <= 2 the
    variance is infinite and sigma is the t scale."""

    sigma: float
    dof: float = 3.0

    def sample(self, rng: np.random.Generator, batch: int, dim: int) -> Array:
        t = rng.standard_t(self.dof, (batch, dim))
        return t * np.sqrt((self.dof - 2) / self.dof) if self.dof > 2 else t


@dataclass(frozen=True)
class MultiplicativeNoise:
    """U = sigma |V(z)| zeta, zeta ~ N(0, I/d): E|U|^2 = sigma^2 |V(z)|^2, zero at every zero of V."""

    sigma: float

    def sample(self, rng: np.random.Generator, batch: int, dim: int) -> Array:
        return rng.standard_normal((batch, dim)) / np.sqrt(dim)

    def perturb(self, v: Array, zeta: Array) -> Array:
        return v + self.sigma * np.linalg.norm(v, axis=-1, keepdims=True) * zeta


# ------------------------------------------------------------------ oracles
@dataclass(frozen=True, eq=False)
class StochasticOracle:
    """V(z, zeta) = V(z) + U(z, zeta): ``sample`` draws zeta for a batch, ``__call__``
    evaluates at any point with a *given* zeta (so a method can reuse one sample at two
    points, as BC-SEG+ does), ``mean`` is the exact V."""

    game: Any
    noise: Any

    @property
    def dim_x(self) -> int:
        return self.game.dim_x

    @property
    def dim(self) -> int:
        return self.game.dim

    def sample(self, rng: np.random.Generator, batch: int) -> Array:
        return self.noise.sample(rng, batch, self.dim)

    def __call__(self, z: Array, zeta: Array) -> Array:
        return self.noise.perturb(self.game(z), zeta)

    def mean(self, z: Array) -> Array:
        return self.game(z)


@dataclass(frozen=True, eq=False)
class MixtureOracle:
    """V(z, i) = V_i(z) with probability p_i (i drawn per row); V(z) = sum_i p_i V_i(z).

    Each V_i is affine, V_i(z) = A_i z + c_i; mean-square Lipschitz constant
    L_hat = sqrt(sum_i p_i ||A_i||^2) (the constant of [71]'s assumption)."""

    probabilities: Array
    matrices: Array  # (I, d, d)
    offsets: Array  # (I, d)
    dim_x: int = 1

    @property
    def dim(self) -> int:
        return self.matrices.shape[-1]

    @property
    def A(self) -> Array:
        return np.einsum("i,ijk->jk", self.probabilities, self.matrices)

    @property
    def c(self) -> Array:
        return self.probabilities @ self.offsets

    @property
    def z_star(self) -> Array:
        return np.linalg.solve(self.A, -self.c)

    @property
    def L(self) -> float:
        return float(np.linalg.norm(self.A, 2))

    @property
    def L_hat(self) -> float:
        return float(np.sqrt(sum(p * np.linalg.norm(m, 2) ** 2 for p, m in zip(self.probabilities, self.matrices))))

    def sample(self, rng: np.random.Generator, batch: int) -> Array:
        return rng.choice(len(self.probabilities), size=batch, p=self.probabilities)

    def __call__(self, z: Array, zeta: Array) -> Array:
        return np.einsum("bij,bj->bi", self.matrices[zeta], z) + self.offsets[zeta]

    def mean(self, z: Array) -> Array:
        return z @ self.A.T + self.c


def scaled_lipschitz_mixture() -> MixtureOracle:
    """The runner's `ScaledLips` noise on the bilinear game: Phi_1 = 3 (x - 1)(y - 1) with
    probability 0.2, Phi_2 = 0.5 x y with probability 0.8; the mean game has L = 1
    (0.2*3 + 0.8*0.5), L_hat = sqrt(0.2*9 + 0.8*0.25) = sqrt(2), z* = (0.6, 0.6)."""
    skew = np.array([[0.0, 1.0], [-1.0, 0.0]])
    matrices = np.stack([3.0 * skew, 0.5 * skew])
    offsets = np.array([[-3.0, 3.0], [0.0, 0.0]])  # 3(y - 1), -3(x - 1)
    return MixtureOracle(np.array([0.2, 0.8]), matrices, offsets)


# ---------------------------------------------------------------- schedules
@dataclass(frozen=True)
class PowerSchedule:
    """alpha_k = alpha0 / (k/scale + 1)^p_alpha, beta_k = beta0 / (k/scale + 1)^p_beta.

    The runner's "sqrt" is p = 1/2, "linear" is p = 1, with scale = 100 (catalogue)."""

    alpha0: float
    alpha_power: float
    beta0: float | None = None
    beta_power: float | None = None
    scale: float = 100.0

    def __call__(self, k: Any) -> tuple[Any, Any]:
        # plain floats for a scalar k: the methods call this once per step
        t = k / self.scale + 1.0 if isinstance(k, (int, float)) else np.asarray(k, dtype=float) / self.scale + 1.0
        alpha = self.alpha0 / t**self.alpha_power
        if self.beta0 is None:
            return alpha, alpha
        return alpha, self.beta0 / t ** (self.alpha_power if self.beta_power is None else self.beta_power)


def runner_schedule(kind: str = "sqrt", alpha0: float = 0.055) -> PowerSchedule:
    """The catalogue's common schedule: alpha_k = 0.055/sqrt(k/100 + 1) ("sqrt") or
    0.055/(k/100 + 1) ("linear"), beta_k = alpha_k."""
    powers = {"sqrt": 0.5, "linear": 1.0}
    if kind not in powers:
        raise ValueError(f"schedule kind {kind!r}: expected one of {sorted(powers)}")
    return PowerSchedule(alpha0, powers[kind])
