"""The Danskin oracle: f(x) = max_{y∈S} Φ(x, y), its maximiser set S*(x) and its
directional derivative (Danskin 1966/67; tutorial slides "Danskin's theorem" and
"A counterexample to Madry et al.", catalogue 2.4).

Danskin's theorem. S compact, Φ and ∇ₓΦ continuous on ℝⁿ×S. Then f is directionally
differentiable and, for every γ,

    D_γ f(x) = max_{y ∈ S*(x)} ⟨γ, ∇ₓΦ(x, y)⟩,      S*(x) = argmax_{y∈S} Φ(x, y).

Φ is a polynomial in (x, y) with rational coefficients (a sympy ``Poly``); S is one of

* :class:`FiniteSet` — S* by exact comparison of the values Φ(x̄, y_k);
* :class:`Interval` — S* from the endpoints and the real roots of ∂Φ/∂y (sympy
  real-root isolation), or the whole interval when Φ(x̄, ·) is constant;
* :class:`Box` — Φ *separable* in the coordinates of y (∂²Φ/∂yᵢ∂yⱼ ≡ 0, i ≠ j), each
  coordinate an interval: S* is the product of the coordinate sets;
* :class:`Ball` (Euclidean, centre 0) and :class:`Simplex` — Φ affine in y,
  Φ = b(x) + c(x)ᵀy: max = b + r‖c‖ (S* = {r c/‖c‖}, or the whole ball when c = 0),
  resp. b + maxᵢ cᵢ (S* = the face spanned by the vertices of the tied cᵢ).

S* is exact at a rational point x̄ (sympy Rationals), so planted ties are exact ties.
Values f(X) and derivatives are evaluated in float64, vectorised over a batch of points
(:class:`NumPoly`: monomial exponents and float coefficients, no lambdify).

The formula (max over candidate gradients) is the registered
``danskin_directional_derivative`` (algorithms/descent.py); this module supplies the
candidates: gradients ∇ₓΦ(x̄, y) at points y ∈ S*(x̄) among which, for the given γ,
the max over S*(x̄) is attained (all of S* when it is finite).
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import sympy as sp

Q_ = sp.Rational
_PRECISION = 50  # digits for evaluating algebraic maximisers
_TIE = sp.Float("1e-40", _PRECISION)  # values closer than this at 50 digits are ties (exact ties: 0)


# ------------------------------------------------------------------ domains
@dataclass(frozen=True)
class Interval:
    lo: sp.Rational
    hi: sp.Rational


@dataclass(frozen=True)
class Box:
    bounds: tuple[tuple[sp.Rational, sp.Rational], ...]


@dataclass(frozen=True)
class Ball:
    radius: sp.Rational
    dim: int


@dataclass(frozen=True)
class Simplex:
    dim: int


@dataclass(frozen=True)
class FiniteSet:
    points: tuple[tuple, ...]  # each a tuple of len(ys) numbers


Domain = Interval | Box | Ball | Simplex | FiniteSet


@dataclass(frozen=True)
class MaximiserSet:
    """S*(x̄): ``points`` (exact sympy numbers, one tuple per point) when finite;
    ``continuum`` names it otherwise ("interval", "box", "ball"); a simplex face
    ("face") lists its vertices in ``points``. ``value`` = f(x̄) at 50 digits."""

    points: tuple[tuple, ...]
    continuum: str = ""
    value: sp.Expr = sp.S.Zero

    @property
    def unique(self) -> bool:
        return not self.continuum and len(self.points) == 1

    @property
    def size(self) -> str:
        return self.continuum or str(len(self.points))


# -------------------------------------------------------- numeric polynomials
class NumPoly:
    """Σₜ cₜ Πᵢ vᵢ^{eₜᵢ} with float coefficients, evaluated on a batch V (..., k)."""

    def __init__(self, monoms: np.ndarray, coeffs: np.ndarray, nvars: int):
        self.coeffs = np.asarray(coeffs, dtype=float)
        self.monoms = np.asarray(monoms, dtype=int).reshape(len(self.coeffs), nvars)

    @classmethod
    def of(cls, P: sp.Poly) -> "NumPoly":
        terms = P.terms()
        terms = [(m, c) for m, c in terms if c != 0]
        return cls(np.array([m for m, _ in terms], dtype=int), np.array([float(c) for _, c in terms]), len(P.gens))

    def __call__(self, V) -> np.ndarray:
        V = np.asarray(V, dtype=float)
        if len(self.coeffs) == 0:
            return np.zeros(V.shape[:-1])
        return np.prod(V[..., None, :] ** self.monoms, axis=-1) @ self.coeffs

    def diff(self, i: int) -> "NumPoly":
        e = self.monoms[:, i]
        keep = e > 0
        m = self.monoms[keep].copy()
        m[:, i] -= 1
        return NumPoly(m, self.coeffs[keep] * e[keep], self.monoms.shape[1])


# ---------------------------------------------------------- the max-function
@dataclass(frozen=True, eq=False)
class MaxFunction:
    """f(x) = max_{y∈S} Φ(x, y), Φ a polynomial in (x, y) with rational coefficients."""

    phi: sp.Expr | sp.Poly
    xs: tuple[sp.Symbol, ...]
    ys: tuple[sp.Symbol, ...]
    domain: Domain
    name: str = ""
    x_bar: tuple = field(default=())  # the point the instance was built around (planted ties)

    def __post_init__(self):
        d, P = self.domain, self.poly
        if isinstance(d, Interval) and len(self.ys) != 1:
            raise ValueError("an Interval domain needs exactly one y symbol; use Box for several")
        if isinstance(d, Box) and len(d.bounds) != len(self.ys):
            raise ValueError(f"Box has {len(d.bounds)} coordinates but Φ has {len(self.ys)} y symbols")
        if isinstance(d, (Ball, Simplex)) and d.dim != len(self.ys):
            raise ValueError(f"{type(d).__name__}.dim = {d.dim} but Φ has {len(self.ys)} y symbols")
        ydeg = [sum(m[self.n:]) for m in P.monoms()]
        if isinstance(d, (Ball, Simplex)) and max(ydeg) > 1:
            raise ValueError(f"a {type(d).__name__} domain needs Φ affine in y (found a term of degree {max(ydeg)} in y)")
        if isinstance(d, Box) and any(sum(1 for e in m[self.n:] if e) > 1 for m in P.monoms()):
            raise ValueError("a Box domain needs Φ separable in y (a term mixes two y coordinates)")

    @property
    def n(self) -> int:
        return len(self.xs)

    @functools.cached_property
    def poly(self) -> sp.Poly:
        return sp.Poly(self.phi, *self.xs, *self.ys)

    # ------------------------------------------------- structure (cached)
    def _restrict(self, values: dict) -> sp.Poly:
        """Φ with some y's fixed, as a Poly in the x's and the remaining y's."""
        P = self.poly
        for sym, v in values.items():
            P = P.eval(sym, v) if len(P.gens) > 1 else P
        return P

    @functools.cached_property
    def _pieces(self) -> list[tuple[sp.Poly, NumPoly]]:
        """FiniteSet: Φ(x, y_k); Simplex: Φ(x, e_k). Exact Poly in xs and its NumPoly."""
        d = self.domain
        if isinstance(d, FiniteSet):
            subs = [dict(zip(self.ys, p)) for p in d.points]
        elif isinstance(d, Simplex):
            subs = [{y: int(y is yk) for y in self.ys} for yk in self.ys]
        else:
            raise TypeError("finite pieces exist for FiniteSet and Simplex domains only")
        out = []
        for s in subs:
            P = self.poly
            for y in self.ys:
                P = P.eval(y, s[y])
            P = sp.Poly(P.as_expr(), *self.xs)
            out.append((P, NumPoly.of(P)))
        return out

    @functools.cached_property
    def _coordinates(self) -> tuple:
        """Separable form Φ = Φ(x, 0) + Σⱼ φⱼ(x, yⱼ), φⱼ = Φ(x, yⱼeⱼ) − Φ(x, 0)
        (Interval: base 0 and the single part Φ). Returns (base NumPoly over xs,
        base exact Poly, [(φⱼ exact Poly over (xs, yⱼ), NumPoly over (xs, yⱼ), lo, hi)])."""
        d = self.domain
        if isinstance(d, Interval):
            base = sp.Poly(0, *self.xs)
            parts = [(self.poly, d.lo, d.hi)]
        else:
            P0 = self.poly
            for y in self.ys:
                P0 = P0.eval(y, 0)
            base = sp.Poly(P0.as_expr(), *self.xs)
            parts = []
            for yj, (lo, hi) in zip(self.ys, d.bounds):
                P = self.poly
                for y in self.ys:
                    if y is not yj:
                        P = P.eval(y, 0)
                parts.append((sp.Poly(P.as_expr() - base.as_expr(), *self.xs, yj), lo, hi))
        return NumPoly.of(base), base, [(P, NumPoly.of(P), sp.S(lo), sp.S(hi)) for P, lo, hi in parts]

    @functools.cached_property
    def _affine(self) -> tuple[NumPoly, list[NumPoly], sp.Poly, list[sp.Poly]]:
        """Ball: Φ = b(x) + c(x)ᵀy."""
        b = self.poly
        for y in self.ys:
            b = b.eval(y, 0)
        b = sp.Poly(b.as_expr(), *self.xs)
        cs = []
        for y in self.ys:
            c = self.poly.diff(y)
            for y2 in self.ys:
                c = c.eval(y2, 0)
            cs.append(sp.Poly(c.as_expr(), *self.xs))
        return NumPoly.of(b), [NumPoly.of(c) for c in cs], b, cs

    # ------------------------------------------------------------ values
    def value(self, X) -> np.ndarray:
        """f at a batch of points X of shape (B, n), float64."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[-1] != self.n:
            raise ValueError(f"points must have {self.n} coordinates, got shape {X.shape}")
        d = self.domain
        if isinstance(d, (FiniteSet, Simplex)):
            return np.max(np.stack([g(X) for _, g in self._pieces]), axis=0)
        if isinstance(d, Ball):
            b, cs, *_ = self._affine
            return b(X) + float(d.radius) * np.sqrt(sum(c(X) ** 2 for c in cs))
        base, _, parts = self._coordinates
        return base(X) + sum(_polynomial_max(g, X, float(lo), float(hi)) for _, g, lo, hi in parts)

    # ------------------------------------------------------- maximisers
    def maximisers(self, x_bar: Sequence) -> MaximiserSet:
        """S*(x̄), exact for rational x̄ (ties compared at 50 digits)."""
        xb = [_exact(v) for v in x_bar]
        d = self.domain
        if isinstance(d, (FiniteSet, Simplex)):
            vals = [sp.N(P(*xb), _PRECISION) for P, _ in self._pieces]
            top = max(vals)
            tied = [k for k, v in enumerate(vals) if top - v < _TIE]
            if isinstance(d, FiniteSet):
                return MaximiserSet(tuple(d.points[k] for k in tied), "", top)
            verts = tuple(tuple(int(i == k) for i in range(d.dim)) for k in tied)
            return MaximiserSet(verts, "face" if len(tied) > 1 else "", top)
        if isinstance(d, Ball):
            *_, b, cs = self._affine
            c = [P(*xb) for P in cs]
            norm = sp.sqrt(sum(ci**2 for ci in c))
            if sp.N(norm, _PRECISION) < _TIE:
                return MaximiserSet((), "ball", sp.N(b(*xb), _PRECISION))
            return MaximiserSet((tuple(d.radius * ci / norm for ci in c),), "",
                                sp.N(b(*xb) + d.radius * norm, _PRECISION))
        _, base, parts = self._coordinates
        total = sp.N(base(*xb), _PRECISION)
        per_coordinate, continuum = [], False
        for P, _, lo, hi in parts:
            pts, value, whole = _interval_maximisers(_at_x(P, xb), lo, hi)
            per_coordinate.append(pts)
            continuum |= whole
            total += value
        kind = ("interval" if isinstance(d, Interval) else "box") if continuum else ""
        return MaximiserSet(tuple(itertools.product(*per_coordinate)) if not continuum else (), kind, total)

    # -------------------------------------------- Danskin candidates
    def danskin_candidates(self, x_bar: Sequence, gamma: Sequence[float] | None = None,
                           active: MaximiserSet | None = None) -> np.ndarray:
        """Gradients ∇ₓΦ(x̄, y), y ∈ S*(x̄), shape (K, n), among which
        max_{y∈S*(x̄)} ⟨γ, ∇ₓΦ(x̄, y)⟩ is attained: all of S* when it is finite, the
        vertices of a simplex face, and γ-dependent points for a continuum."""
        active = active or self.maximisers(x_bar)
        xf = np.array([float(v) for v in x_bar])
        d = self.domain
        if isinstance(d, (FiniteSet, Simplex)):
            idx = _piece_indices(d, active)
            return np.array([[g.diff(i)(xf) for i in range(self.n)] for k in idx for g in [self._pieces[k][1]]])
        if isinstance(d, Ball):
            b, cs, *_ = self._affine
            gb = np.array([b.diff(i)(xf) for i in range(self.n)])
            J = np.array([[c.diff(i)(xf) for i in range(self.n)] for c in cs])  # ∂c/∂x
            if not active.continuum:
                return (gb + J.T @ np.array([float(v) for v in active.points[0]]))[None, :]
            if gamma is None:
                raise ValueError("S*(x̄) is the whole ball; give the direction γ")
            # ⟨γ, ∇ₓΦ(x̄, y)⟩ = γ·∇b + yᵀJγ is maximised over the ball at y = r Jγ/‖Jγ‖
            v = J @ np.asarray(gamma, float)
            nv = np.linalg.norm(v)
            y = float(d.radius) * v / nv if nv > 0 else np.zeros(len(self.ys))
            return (gb + J.T @ y)[None, :]
        base, _, parts = self._coordinates
        g0 = np.array([base.diff(i)(xf) for i in range(self.n)])
        xb = [_exact(v) for v in x_bar]
        options = []
        for j, (P, g, lo, hi) in enumerate(parts):
            grads = [g.diff(i) for i in range(self.n)]
            if active.continuum:
                pts, _, whole = _interval_maximisers(_at_x(P, xb), lo, hi)
                if whole:  # S*ⱼ = [lo, hi]: maximise the polynomial ⟨γ, ∇ₓφⱼ(x̄, y)⟩ over it
                    if gamma is None:
                        raise ValueError("S*(x̄) contains an interval; give the direction γ")
                    ys = _maximise_numeric(lambda t: sum(gi * gr(_xy(xf, t)) for gi, gr in zip(gamma, grads)),
                                           float(lo), float(hi))
                else:
                    ys = [float(t) for t in pts]
            else:
                ys = sorted({float(p[j]) for p in active.points})
            options.append([np.array([gr(_xy(xf, np.array([t])))[0] for gr in grads]) for t in ys])
        return np.array([g0 + sum(choice) for choice in itertools.product(*options)])

    # ------------------------------------------- second-order constant
    def second_order_constant(self, x_bar: Sequence, gamma: Sequence[float],
                              active: MaximiserSet | None = None) -> float:
        """Q = max over the smooth local pieces of f through S*(x̄) of ½|d²/dt² piece(x̄ + tγ)|
        at t = 0, so that |(f(x̄+tγ) − f(x̄))/t − D_γ f(x̄)| ≤ t·Q + O(t²) (Taylor for each
        piece; near x̄, f is their max). Interior nondegenerate maximiser y*: the envelope
        second derivative γᵀΦₓₓγ + (γᵀΦₓᵧ)²/|Φᵧᵧ|; strict boundary maximiser: γᵀΦₓₓγ."""
        active = active or self.maximisers(x_bar)
        g = np.asarray(gamma, dtype=float)
        xf = np.array([float(v) for v in x_bar])
        n, d = self.n, self.domain

        def quad(p: NumPoly, V) -> np.ndarray:  # γᵀ∇²ₓp γ at V
            return sum(g[i] * g[k] * p.diff(i).diff(k)(V) for i in range(n) for k in range(n))

        def slope(p: NumPoly, V) -> np.ndarray:  # γ·∇ₓp at V
            return sum(g[i] * p.diff(i)(V) for i in range(n))

        if isinstance(d, (FiniteSet, Simplex)):
            return max(0.5 * abs(float(quad(self._pieces[k][1], xf))) for k in _piece_indices(d, active))
        if isinstance(d, Ball):
            b, cs, *_ = self._affine
            c = np.array([ci(xf) for ci in cs])
            c1 = np.array([slope(ci, xf) for ci in cs])
            c2 = np.array([quad(ci, xf) for ci in cs])
            b2, r = abs(float(quad(b, xf))), float(d.radius)
            if active.continuum:  # c(x̄) = 0: ‖c(x̄+tγ)‖ = t‖c′ + (t/2)c″‖ + O(t³)
                return 0.5 * b2 + 0.5 * r * float(np.linalg.norm(c2))
            nc = float(np.linalg.norm(c))
            curvature = (c @ c2 + c1 @ c1 - (c @ c1) ** 2 / nc**2) / nc  # d²/dt² ‖c(x̄ + tγ)‖
            return 0.5 * b2 + 0.5 * r * abs(curvature)
        base, _, parts = self._coordinates
        q = 0.5 * abs(float(quad(base, xf)))
        xb = [_exact(v) for v in x_bar]
        for j, (P, p, lo, hi) in enumerate(parts):
            if active.continuum:
                pts, _, whole = _interval_maximisers(_at_x(P, xb), lo, hi)
                if whole:  # piece = C + t·ψ(y) + (t²/2)·γᵀΦₓₓγ(y): bound the last over the interval
                    grid = np.linspace(float(lo), float(hi), 201)
                    q += 0.5 * float(np.max(np.abs(quad(p, _xy(xf, grid)))))
                    continue
                ys = [float(t) for t in pts]
            else:
                ys = sorted({float(pt[j]) for pt in active.points})
            worst = 0.0
            for yv in ys:
                V = np.append(xf, yv)
                pxx, pyy = float(quad(p, V)), float(p.diff(n).diff(n)(V))
                pxy, py = float(slope(p.diff(n), V)), float(p.diff(n)(V))
                if yv in (float(lo), float(hi)) and abs(py) > 1e-12:
                    worst = max(worst, abs(pxx))
                elif pyy < 0:
                    worst = max(worst, abs(pxx) + pxy**2 / abs(pyy))
                else:
                    raise ValueError(f"degenerate maximiser y = {yv} (Φᵧᵧ = {pyy}): no O(t) remainder bound")
            q += 0.5 * worst
        return q


# ------------------------------------------------------------ helpers
def _exact(v):
    """Integers and sympy numbers as they are; a float as its exact binary value."""
    if isinstance(v, (float, np.floating)):
        return sp.Rational(float(v))
    return sp.S(v)


def _xy(xf: np.ndarray, ys) -> np.ndarray:
    """Rows (x̄, y) for each y in ys."""
    ys = np.atleast_1d(np.asarray(ys, float))
    return np.concatenate([np.broadcast_to(xf, (len(ys), len(xf))), ys[:, None]], axis=1)


def _at_x(P: sp.Poly, xb: Sequence) -> sp.Poly:
    """The univariate polynomial y ↦ φ(x̄, y) (exact)."""
    Q = P
    for v in xb:
        Q = Q.eval(Q.gens[0], v) if len(Q.gens) > 1 else Q
    return sp.Poly(Q.as_expr(), P.gens[-1])


def _piece_indices(d: Domain, active: MaximiserSet) -> list[int]:
    if isinstance(d, FiniteSet):
        return [d.points.index(p) for p in active.points]
    return [v.index(1) for v in active.points]


def _interval_maximisers(P: sp.Poly, lo, hi):
    """(points, value, whole): the maximisers of the univariate exact polynomial P on
    [lo, hi] (sympy real-root isolation of P′); whole = P is constant."""
    if P.degree() <= 0:
        return [], sp.N(P.as_expr(), _PRECISION), True
    roots = [r for r in P.diff().real_roots() if lo < r < hi]
    cands = [sp.S(lo), sp.S(hi), *roots]
    vals = [sp.N(P.eval(c), _PRECISION) for c in cands]
    top = max(vals)
    return sorted({c for c, v in zip(cands, vals) if top - v < _TIE}, key=float), top, False


def _maximise_numeric(fn, lo: float, hi: float) -> list[float]:
    """Candidates for max of a smooth univariate fn on [lo, hi]: endpoints, and the
    local maxima of a 2001-point grid refined by golden-section search."""
    grid = np.linspace(lo, hi, 2001)
    v = fn(grid)
    out = [lo, hi]
    for k in np.flatnonzero((v[1:-1] >= v[:-2]) & (v[1:-1] >= v[2:])) + 1:
        a, b = grid[k - 1], grid[k + 1]
        for _ in range(80):
            m1, m2 = b - 0.618033988749895 * (b - a), a + 0.618033988749895 * (b - a)
            if fn(np.array([m1]))[0] < fn(np.array([m2]))[0]:
                a = m1
            else:
                b = m2
        out.append(0.5 * (a + b))
    return out


def _polynomial_max(p: NumPoly, X: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """max_{y∈[lo,hi]} p(x, y) for each row x of X: the critical points of each row's
    polynomial in y are the eigenvalues of its companion matrix (one batched call)."""
    n = X.shape[1]
    deg = int(p.monoms[:, n].max()) if len(p.coeffs) else 0
    # coefficient of y^k as a function of x, for k = deg..0
    C = np.stack([NumPoly(p.monoms[p.monoms[:, n] == k][:, :n], p.coeffs[p.monoms[:, n] == k], n)(X)
                  for k in range(deg, -1, -1)], axis=1)
    cands = [np.full((len(X), 1), lo), np.full((len(X), 1), hi)]
    if deg >= 2:
        D = C[:, :-1] * np.arange(deg, 0, -1)  # derivative, highest degree first
        lead = D[:, 0]
        ok = lead != 0
        comp = np.zeros((len(X), deg - 1, deg - 1))
        comp[ok, 0, :] = -D[ok, 1:] / lead[ok, None]
        if deg > 2:
            comp[:, np.arange(1, deg - 1), np.arange(deg - 2)] = 1.0
        roots = np.linalg.eigvals(comp)
        cands.append(np.where((np.abs(roots.imag) < 1e-7) & ok[:, None], np.clip(roots.real, lo, hi), lo))
    T = np.concatenate(cands, axis=1)
    val = np.zeros_like(T)
    for k in range(C.shape[1]):
        val = val * T + C[:, k:k + 1]
    return val.max(axis=1)
