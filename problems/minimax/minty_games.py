"""Min-max games beyond bilinear, each with its domain, Lipschitz constant L and
weak-Minty constant rho (tutorial slides 35-38).

Sign conventions (catalogue optim.md, section 0): z = (x, y), x minimises, y
maximises, V(z) = (grad_x Phi, -grad_y Phi), the mean dynamics are dz/dt = -V(z).
Weak Minty variational inequality (MVI) on a domain D with solution z*:

    <V(z), z - z*>  >=  rho ||V(z)||^2   for all z in D,

L = sup_{z in D} ||DV(z)||_2. Where a closed form exists it is carried exactly
(sympy); otherwise the field is the reference number of the catalogue, which
``problems.minimax.minty_oracles`` reproduces independently.

Families
--------
* :func:`linear_minty_game`  Phi = a x.y + (b/2)(|x|^2 - |y|^2), V = [[b, a], [-a, b]] z:
  L = sqrt(a^2 + b^2), rho = b / L^2 exactly; built from (L, rho) with
  a = sqrt(L^2 - L^4 rho^2), b = L^2 rho (Pethick et al., ICLR 2023, ``runner.py``).
* :func:`polar_game`  PolarGame of Pethick, Latafat, Patrinos, Fercoq, Cevher (ICLR 2022, App. C.2).
* :func:`forsaken`  Hsieh, Mertikopoulos, Cevher (ICML 2021): Phi = x(y - c) + phi(x) - phi(y).
* :func:`global_forsaken`  Pethick et al. (ICLR 2022, App. C.4).
* :func:`almost_bilinear`  Phi = xy + eps phi(u), phi(u) = u^2/2 - u^4/4, u = x or y (slide 37).
* :func:`cos_sum_potential` (``problems.minimax.minty_operators``)  a smooth nonconvex f for plain
  minimisation (GD = GDA without a max player).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from problems.minimax.games import AffineOperator
from problems.minimax.minty_operators import PolarField, PolynomialPairGame, WeirdSaddle, cos_sum_potential  # noqa: F401

Array = np.ndarray
X, Y = sp.symbols("x y", real=True)


# ------------------------------------------------------------------ domains
@dataclass(frozen=True)
class Box:
    """[-half_width, half_width]^d (the papers' boxes are centred at 0)."""

    half_width: float

    def project(self, z: Array, step: Any = None) -> Array:
        """Euclidean projection; ``step`` is ignored (the resolvent of a normal cone)."""
        return np.clip(z, -self.half_width, self.half_width)

    def contains(self, z: Array, tol: float = 0.0) -> Array:
        return np.all(np.abs(z) <= self.half_width + tol, axis=-1)


@dataclass(frozen=True)
class Ball:
    """Closed Euclidean ball of ``radius`` centred at 0."""

    radius: float

    def project(self, z: Array, step: Any = None) -> Array:
        norm = np.linalg.norm(z, axis=-1, keepdims=True)
        return z * np.minimum(1.0, self.radius / np.maximum(norm, 1e-300))

    def contains(self, z: Array, tol: float = 0.0) -> Array:
        return np.linalg.norm(z, axis=-1) <= self.radius + tol

    @property
    def half_width(self) -> float:  # bounding box, for grids
        return self.radius


@dataclass(frozen=True, eq=False)
class MintyInstance:
    """A game with what the weak-MVI theory needs: domain, solution, L, rho.

    ``lipschitz`` / ``rho`` are floats; ``lipschitz_exact`` / ``rho_exact`` the
    sympy closed forms where one is known (else None), ``source`` says where the
    numbers come from."""

    name: str
    operator: Any
    domain: Box | Ball
    solution: Array
    lipschitz: float
    rho: float
    rho_argmin: Array | None = None
    lipschitz_exact: sp.Expr | None = None
    rho_exact: sp.Expr | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rho_times_L(self) -> float:
        return self.rho * self.lipschitz


# -------------------------------------------------------- linear family
@dataclass(frozen=True, eq=False)
class LinearMintyGame:
    """Phi = a x.y + (b/2)(|x|^2 - |y|^2), x, y in R^n, one instance per batch row.

    V(z) = A z with A = [[b I, a I], [-a I, b I]]: eigenvalues b +- i a, A normal,
    so L = ||A|| = sqrt(a^2 + b^2) and rho = min <Az, z>/|Az|^2 = b / L^2 (exact,
    z* = 0). c = -rho L is the normalised weak-Minty defect of the lower-bound
    analysis (Pethick et al. 2022, Thm 3.4)."""

    L: Array  # (B,)
    rho: Array  # (B,)
    n: int = 1

    @classmethod
    def from_constants(cls, L: Any, rho: Any, n: int = 1) -> "LinearMintyGame":
        L, rho = np.atleast_1d(np.asarray(L, float)), np.atleast_1d(np.asarray(rho, float))
        L, rho = np.broadcast_arrays(L, rho)
        if np.any(L <= 0) or np.any(np.abs(rho * L) > 1):
            raise ValueError("need L > 0 and |rho L| <= 1 (then a = sqrt(L^2 - L^4 rho^2) is real)")
        return cls(L.copy(), rho.copy(), n)

    @property
    def a(self) -> Array:
        return np.sqrt(np.maximum(self.L**2 - self.L**4 * self.rho**2, 0.0))

    @property
    def b(self) -> Array:
        return self.L**2 * self.rho

    @property
    def c(self) -> Array:
        return -self.rho * self.L

    @property
    def A(self) -> Array:
        eye = np.eye(self.n)
        a, b = self.a[:, None, None], self.b[:, None, None]
        return np.concatenate([np.concatenate([b * eye, a * eye], axis=2),
                               np.concatenate([-a * eye, b * eye], axis=2)], axis=1)

    @property
    def operator(self) -> AffineOperator:
        return AffineOperator(self.A, dim_x=self.n)

    def starts(self, count_per_instance: int = 1, seed: int = 0) -> Array:
        """Unit-norm starting points, one row per instance (repeated per instance)."""
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((len(self.L) * count_per_instance, 2 * self.n))
        return z / np.linalg.norm(z, axis=1, keepdims=True)


def linear_minty_game(L: Any, rho: Any, n: int = 1) -> LinearMintyGame:
    return LinearMintyGame.from_constants(L, rho, n)


@st.composite
def linear_minty_games(draw, rho_L: tuple[float, float] = (-0.99, 0.0), L: tuple[float, float] = (0.5, 5.0),
                       batch: int = 8, max_n: int = 3) -> LinearMintyGame:
    """``batch`` instances with L and rho*L drawn inside the given ranges (one
    hypothesis example = one vectorised batch)."""
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    Ls = rng.uniform(*L, batch)
    rl = rng.uniform(*rho_L, batch)
    rl[0] = draw(st.floats(*rho_L))  # one value hypothesis can push to the edges
    return LinearMintyGame.from_constants(Ls, rl / Ls, n)


@dataclass(frozen=True, eq=False)
class RegularisedLinearProblem:
    """0 in F z + mu z with F z = A (z - z_u), A of the linear family (L, rho_F):
    a *regularised* weak-Minty inclusion (A = mu I, maximally monotone, resolvent
    (I + gamma mu I)^{-1} z = z / (1 + gamma mu)). T = F + mu I is affine with
    matrix A + mu I, so its weak-MVI constant is exact; the solution z* solves
    (A + mu I) z* = A z_u and differs from the zero z_u of F (the prox matters)."""

    game: LinearMintyGame
    mu: float
    anchor: Array  # z_u (B, d)

    @property
    def operator(self) -> AffineOperator:
        A = self.game.A
        return AffineOperator(A, dim_x=self.game.n, b=-np.einsum("bij,bj->bi", A, self.anchor))

    @property
    def total_matrix(self) -> Array:
        return self.game.A + self.mu * np.eye(self.game.A.shape[-1])

    @property
    def solution(self) -> Array:
        rhs = np.einsum("bij,bj->bi", self.game.A, self.anchor)
        return np.linalg.solve(self.total_matrix, rhs[..., None])[..., 0]

    def prox(self, z: Array, gamma: Any) -> Array:
        return z / (1 + np.asarray(gamma) * self.mu)


# ---------------------------------------------------------- polar game
POLAR_REFERENCE = {
    # a: (rho exact, L exact) on the box [-1.1, 1.1]^2 [LIONS nb PolarGame.nb = catalogue, computed]
    sp.Integer(1): (sp.Rational(-50176, 1050977),
                    sp.sqrt(70246989617 + 2538096 * sp.sqrt(704424929)) / 20000),
    sp.Rational(3, 4): (sp.Rational(-602112, 16798825),
                        sp.sqrt(635022906553 + 7614288 * sp.sqrt(6383574361)) / 80000),
    sp.Rational(1, 3): (sp.Rational(-150528, 9439585),
                        sp.sqrt(73446989617 + 2538096 * sp.sqrt(754424929)) / 60000),
}


@lru_cache(maxsize=None)
def polar_game(a: Any = 1, b: Any = 1) -> MintyInstance:
    """PolarGame (Pethick et al. ICLR 2022, App. C.2), z* = 0, box [-1.1, 1.1]^2:

        V(x, y) = (-b y + x g(r), b x + y g(r)),   g = a (r^2 - 1)(16 r^2 - 9) / 16.

    Radial part g r: attracting near 0 (g(0) = 9a/16 > 0), repelling for
    r in (3/4, 1); a = 1, 3/4, 1/3 put rho L in (-1,-1/2), (-1/2,-1/3), (-1/8,-1/10)."""
    a, b = sp.nsimplify(a), sp.nsimplify(b)
    r2 = X**2 + Y**2
    g = a * (r2 - 1) * (16 * r2 - 9) / 16
    op = PolarField(sp.S.Zero, [X], [Y], name=f"polar game a={a}", field_expr=(-b * Y + X * g, b * X + Y * g),
                    a=float(a), b=float(b))
    rho_e, lip_e = POLAR_REFERENCE.get(a, (None, None)) if b == 1 else (None, None)
    return MintyInstance(
        name=f"polar game a={a}", operator=op, domain=Box(1.1), solution=np.zeros(2),
        lipschitz=float(lip_e) if lip_e is not None else float("nan"),
        rho=float(rho_e) if rho_e is not None else float("nan"),
        lipschitz_exact=lip_e, rho_exact=rho_e, source="Pethick et al. 2022 App. C.2; [LIONS nb] PolarGame.nb",
        extra={"a": a, "b": b})


# ------------------------------------------------- separable games and L
def _phi_forsaken(u):
    return u**2 / 4 - u**4 / 2 + u**6 / 6


def _psi_global(u):
    return u**2 / 3 - u**4 / 3 + 2 * u**6 / 21


def separable_lipschitz(second_derivative: sp.Expr, u: sp.Symbol, half_width: sp.Expr) -> sp.Expr:
    """Exact L on the box [-h, h]^2 for V = (y + f'(x), -x + f'(y)) (+ constants):
    DV = [[p, 1], [-1, q]] with p = f''(x), q = f''(y). ||DV||_2 is a norm of an
    affine function of (p, q), hence convex, so its max over the rectangle
    f''([-h, h])^2 is at a vertex: L^2 = max over vertices of
    (p^2 + q^2 + 2)/2 + sqrt((p^2 - q^2)^2/4 + (p - q)^2)."""
    crit = [s for s in sp.solve(sp.diff(second_derivative, u), u) if s.is_real and abs(s) <= half_width]
    values = [second_derivative.subs(u, v) for v in [-half_width, half_width, *crit]]
    lo, hi = min(values, key=float), max(values, key=float)
    best = None
    for p in (lo, hi):
        for q in (lo, hi):
            lam = (p**2 + q**2 + 2) / 2 + sp.sqrt((p**2 - q**2) ** 2 / 4 + (p - q) ** 2)
            if best is None or float(lam) > float(best):
                best = lam
    return sp.sqrt(sp.nsimplify(best))


def stationary_point_forsaken(c: Any) -> Array:
    """The real stationary points of Forsaken: V1 = 0 gives y = c - phi'(x); V2 = 0
    is then a degree-25 polynomial in x, solved exactly (sympy real roots)."""
    c = sp.nsimplify(c)
    dphi = sp.diff(_phi_forsaken(X), X)
    y_of_x = c - dphi
    poly = sp.Poly(sp.expand(-X + dphi.subs(X, y_of_x)), X)
    roots = poly.real_roots()
    return np.array([[float(sp.N(r, 30)), float(sp.N(y_of_x.subs(X, r), 30))] for r in roots])


def forsaken_stationary_points_numeric(c: float) -> Array:
    """The same polynomial elimination in floating point (numpy), for sweeps over c."""
    P = np.polynomial.Polynomial
    dphi = P([0.0, 0.5, 0.0, -2.0, 0.0, 1.0])  # phi'(u) = u/2 - 2u^3 + u^5
    y_of_x = P([c]) - dphi
    h = -P([0.0, 1.0]) + dphi(y_of_x)
    roots = h.roots()
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    return np.stack([real, y_of_x(real)], axis=1)


FORSAKEN_RHO = {
    # c: (rho on the box [-1.5, 1.5]^2, argmin) [computed: grid 801^2 + L-BFGS-B, this harness]
    0.45: (-1.520566154622643, (-0.25807899, 0.79165217)),
    0.5: (-1.7669215485229806, (-0.2245114, 0.75501084)),
}


@lru_cache(maxsize=None)
def forsaken(c: float = 0.45) -> MintyInstance:
    """Forsaken (Hsieh, Mertikopoulos, Cevher ICML 2021; Pethick et al. 2022 App. C.3):

        Phi(x, y) = x (y - c) + phi(x) - phi(y),  phi(u) = u^2/4 - u^4/2 + u^6/6,

    x minimised, y maximised, on the box [-1.5, 1.5]^2. The papers use c = 0.45;
    the tutorial prints Phi(y, x) = y(x - 0.5) + phi(y) - phi(x), the same game
    with the first argument minimised and c = 0.5."""
    cs = sp.nsimplify(c)
    phi = X * (Y - cs) + _phi_forsaken(X) - _phi_forsaken(Y)
    game = PolynomialPairGame(phi, [X], [Y], name=f"Forsaken c={c}")
    u = sp.Symbol("u", real=True)
    lip = separable_lipschitz(sp.diff(_phi_forsaken(u), u, 2), u, sp.Rational(3, 2))
    stationary = stationary_point_forsaken(cs)
    inside = stationary[np.all(np.abs(stationary) <= 1.5, axis=1)]
    rho, argmin = FORSAKEN_RHO.get(float(c), (float("nan"), None))
    return MintyInstance(
        name=f"Forsaken c={c}", operator=game, domain=Box(1.5), solution=inside[0], lipschitz=float(lip),
        rho=rho, rho_argmin=None if argmin is None else np.array(argmin), lipschitz_exact=lip,
        source="Hsieh et al. 2021; Pethick et al. 2022 App. C.3; rho [computed]",
        extra={"stationary_points": stationary})


@lru_cache(maxsize=None)
def global_forsaken(domain: str = "ball") -> MintyInstance:
    """GlobalForsaken (Pethick et al. 2022, App. C.4): Phi = xy + psi(x) - psi(y),
    psi(u) = u^2/3 - u^4/3 + 2u^6/21, z* = 0, on the ball of radius 4/3
    (``domain="ball"``) or the box [-4/3, 4/3]^2 (``"box"``).

    rho = -0.119732 at (1.0800, 0.1173) on both domains [computed]; L on the box
    is exact (separable), on the ball 2.868417 [computed]."""
    phi = X * Y + _psi_global(X) - _psi_global(Y)
    game = PolynomialPairGame(phi, [X], [Y], name="GlobalForsaken")
    u = sp.Symbol("u", real=True)
    lip_box = separable_lipschitz(sp.diff(_psi_global(u), u, 2), u, sp.Rational(4, 3))
    if domain == "box":
        dom, lip, lip_e = Box(4 / 3), float(lip_box), lip_box
    elif domain == "ball":
        dom, lip, lip_e = Ball(4 / 3), 2.868417, None
    else:
        raise ValueError(f"domain must be 'ball' or 'box', got {domain!r}")
    return MintyInstance(
        name=f"GlobalForsaken ({domain})", operator=game, domain=dom, solution=np.zeros(2), lipschitz=lip,
        rho=-0.119732, rho_argmin=np.array([1.0800, 0.1173]), lipschitz_exact=lip_e,
        source="Pethick et al. 2022 App. C.4; [LIONS nb], [runner]; rho and ball L [computed]",
        extra={"lipschitz_box": float(lip_box)})


# ------------------------------------------------------- weird saddle
@lru_cache(maxsize=None)
def weird_saddle_fast() -> WeirdSaddle:
    return WeirdSaddle(-(X**2) * Y**2 + X * Y, [X], [Y], name="weird saddle")


# ------------------------------------------------------ almost bilinear
@lru_cache(maxsize=None)
def almost_bilinear(eps: float, on: str = "x") -> PolynomialPairGame:
    """Phi = x y + eps phi(u), phi(u) = u^2/2 - u^4/4 (slide 37), u = x (as printed:
    on the min player) or u = y (on the max player, the spurious-attractor case of
    Hsieh et al. 2021). The only critical point is 0; Re eig DV(0) = eps/2 for
    u = x and -eps/2 for u = y."""
    if on not in ("x", "y"):
        raise ValueError(f"on must be 'x' or 'y', got {on!r}")
    u = X if on == "x" else Y
    e = sp.Rational(repr(float(eps)))  # the decimal as written (nsimplify costs ~50 ms)
    eps_phi_prime = np.array([0.0, 1.0, 0.0, -1.0]) * float(eps)  # eps phi'(u) = eps (u - u^3)
    # V = (y + p(x), -x + q(y)): p = eps phi'(x) on x; q = -eps phi'(y) on y (V_y = -Phi_y)
    coefficients = (eps_phi_prime, [0.0]) if on == "x" else ([0.0], -eps_phi_prime)
    return PolynomialPairGame(X * Y + e * (u**2 / 2 - u**4 / 4), [X], [Y], name=f"almost bilinear eps={eps} on {on}",
                              coefficients=coefficients)


@st.composite
def almost_bilinear_params(draw, magnitude: tuple[float, float] = (0.01, 1.0)) -> tuple[float, str]:
    eps = draw(st.floats(*magnitude)) * draw(st.sampled_from([-1.0, 1.0]))
    return eps, draw(st.sampled_from(["x", "y"]))
