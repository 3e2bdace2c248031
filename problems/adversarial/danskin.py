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
(:class:`problems.adversarial.polynomials.NumPoly`). Each domain is a small class that validates
Φ against itself and names how f is computed on it: finitely many pieces (FiniteSet, Simplex),
Φ affine in y (Ball), or Φ separable over intervals (Interval, Box).

The formula (max over candidate gradients) is the registered
``danskin_directional_derivative`` (algorithms/descent.py); this module supplies the
candidates: gradients ∇ₓΦ(x̄, y) at points y ∈ S*(x̄) among which, for the given γ,
the max over S*(x̄) is attained (all of S* when it is finite).
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np
import sympy as sp

from problems.adversarial.polynomials import (PRECISION, TIE, NumPoly, exact, interval_maximisers, maximise_numeric,
                                              polynomial_max, rows_xy, univariate_at)



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


# ------------------------------------------------------------------ domains
def _y_degrees(f: "MaxFunction") -> list[int]:
    return [sum(m[f.n:]) for m in f.poly.monoms()]


def _needs_affine_in_y(domain: Any, f: "MaxFunction") -> None:
    if domain.dim != len(f.ys):
        raise ValueError(f"{type(domain).__name__}.dim = {domain.dim} but Φ has {len(f.ys)} y symbols")
    if max(_y_degrees(f)) > 1:
        raise ValueError(f"a {type(domain).__name__} domain needs Φ affine in y (found a term of degree "
                         f"{max(_y_degrees(f))} in y)")


@dataclass(frozen=True)
class Interval:
    lo: sp.Rational
    hi: sp.Rational
    continuum: ClassVar[str] = "interval"

    def validate(self, f: "MaxFunction") -> None:
        if len(f.ys) != 1:
            raise ValueError("an Interval domain needs exactly one y symbol; use Box for several")

    def structure(self, f: "MaxFunction") -> "_Separable":
        return _Separable(f, sp.Poly(0, *f.xs), [(f.poly, self.lo, self.hi)])


@dataclass(frozen=True)
class Box:
    bounds: tuple[tuple[sp.Rational, sp.Rational], ...]
    continuum: ClassVar[str] = "box"

    def validate(self, f: "MaxFunction") -> None:
        if len(self.bounds) != len(f.ys):
            raise ValueError(f"Box has {len(self.bounds)} coordinates but Φ has {len(f.ys)} y symbols")
        if any(sum(1 for e in m[f.n:] if e) > 1 for m in f.poly.monoms()):
            raise ValueError("a Box domain needs Φ separable in y (a term mixes two y coordinates)")

    def structure(self, f: "MaxFunction") -> "_Separable":
        """Φ = Φ(x, 0) + Σⱼ φⱼ(x, yⱼ), φⱼ = Φ(x, yⱼeⱼ) − Φ(x, 0)."""
        base = sp.Poly(_at_zero(f.poly, f.ys).as_expr(), *f.xs)
        parts = [(sp.Poly(_at_zero(f.poly, [y for y in f.ys if y is not yj]).as_expr() - base.as_expr(), *f.xs, yj),
                  lo, hi) for yj, (lo, hi) in zip(f.ys, self.bounds)]
        return _Separable(f, base, parts)


@dataclass(frozen=True)
class Ball:
    radius: sp.Rational
    dim: int

    def validate(self, f: "MaxFunction") -> None:
        _needs_affine_in_y(self, f)

    def structure(self, f: "MaxFunction") -> "_Affine":
        return _Affine(f, self.radius)


@dataclass(frozen=True)
class Simplex:
    dim: int

    def validate(self, f: "MaxFunction") -> None:
        _needs_affine_in_y(self, f)

    def structure(self, f: "MaxFunction") -> "_Pieces":
        return _Pieces(f, [{y: int(y is yk) for y in f.ys} for yk in f.ys])  # Φ(x, e_k)

    def maximiser_set(self, tied: list[int], top: sp.Expr) -> MaximiserSet:
        verts = tuple(tuple(int(i == k) for i in range(self.dim)) for k in tied)
        return MaximiserSet(verts, "face" if len(tied) > 1 else "", top)

    def piece_indices(self, active: MaximiserSet) -> list[int]:
        return [v.index(1) for v in active.points]


@dataclass(frozen=True)
class FiniteSet:
    points: tuple[tuple, ...]  # each a tuple of len(ys) numbers

    def validate(self, f: "MaxFunction") -> None:
        pass  # any Φ

    def structure(self, f: "MaxFunction") -> "_Pieces":
        return _Pieces(f, [dict(zip(f.ys, p)) for p in self.points])  # Φ(x, y_k)

    def maximiser_set(self, tied: list[int], top: sp.Expr) -> MaximiserSet:
        return MaximiserSet(tuple(self.points[k] for k in tied), "", top)

    def piece_indices(self, active: MaximiserSet) -> list[int]:
        return [self.points.index(p) for p in active.points]


Domain = Interval | Box | Ball | Simplex | FiniteSet


def _at_zero(P: sp.Poly, ys: Sequence[sp.Symbol]) -> sp.Poly:
    for y in ys:
        P = P.eval(y, 0)
    return P


def _quad(p: NumPoly, g: np.ndarray, V) -> np.ndarray:
    """γᵀ∇²ₓp γ at V."""
    return sum(g[i] * g[k] * p.diff(i).diff(k)(V) for i in range(len(g)) for k in range(len(g)))


def _slope(p: NumPoly, g: np.ndarray, V) -> np.ndarray:
    """γ·∇ₓp at V."""
    return sum(g[i] * p.diff(i)(V) for i in range(len(g)))


# ------------------------------------------ how f is computed on each kind of domain
class _Pieces:
    """Finitely many pieces f = max_k Φ(x, y_k): a FiniteSet's points, a Simplex's vertices."""

    def __init__(self, f: "MaxFunction", substitutions: list[dict]):
        self.f, self.pieces = f, []
        for s in substitutions:
            P = f.poly
            for y in f.ys:
                P = P.eval(y, s[y])
            P = sp.Poly(P.as_expr(), *f.xs)
            self.pieces.append((P, NumPoly.of(P)))

    def value(self, X: np.ndarray) -> np.ndarray:
        return np.max(np.stack([g(X) for _, g in self.pieces]), axis=0)

    def maximisers(self, xb: list) -> MaximiserSet:
        vals = [sp.N(P(*xb), PRECISION) for P, _ in self.pieces]
        top = max(vals)
        return self.f.domain.maximiser_set([k for k, v in enumerate(vals) if top - v < TIE], top)

    def candidates(self, xf, xb, gamma, active) -> np.ndarray:
        idx = self.f.domain.piece_indices(active)
        return np.array([[g.diff(i)(xf) for i in range(self.f.n)] for k in idx for g in [self.pieces[k][1]]])

    def second_order(self, xf, xb, g, active) -> float:
        return max(0.5 * abs(float(_quad(self.pieces[k][1], g, xf))) for k in self.f.domain.piece_indices(active))


class _Affine:
    """Φ affine in y, Φ = b(x) + c(x)ᵀy, on the ball of radius r: f = b + r‖c‖,
    S* = {r c/‖c‖}, or the whole ball when c = 0."""

    def __init__(self, f: "MaxFunction", radius: sp.Rational):
        self.f, self.radius = f, radius
        self.b_exact = sp.Poly(_at_zero(f.poly, f.ys).as_expr(), *f.xs)
        self.cs_exact = [sp.Poly(_at_zero(f.poly.diff(y), f.ys).as_expr(), *f.xs) for y in f.ys]
        self.b, self.cs = NumPoly.of(self.b_exact), [NumPoly.of(c) for c in self.cs_exact]

    def value(self, X: np.ndarray) -> np.ndarray:
        return self.b(X) + float(self.radius) * np.sqrt(sum(c(X) ** 2 for c in self.cs))

    def maximisers(self, xb: list) -> MaximiserSet:
        c = [P(*xb) for P in self.cs_exact]
        norm = sp.sqrt(sum(ci**2 for ci in c))
        if sp.N(norm, PRECISION) < TIE:
            return MaximiserSet((), "ball", sp.N(self.b_exact(*xb), PRECISION))
        return MaximiserSet((tuple(self.radius * ci / norm for ci in c),), "",
                            sp.N(self.b_exact(*xb) + self.radius * norm, PRECISION))

    def candidates(self, xf, xb, gamma, active) -> np.ndarray:
        n = self.f.n
        gb = np.array([self.b.diff(i)(xf) for i in range(n)])
        J = np.array([[c.diff(i)(xf) for i in range(n)] for c in self.cs])  # ∂c/∂x
        if not active.continuum:
            return (gb + J.T @ np.array([float(v) for v in active.points[0]]))[None, :]
        if gamma is None:
            raise ValueError("S*(x̄) is the whole ball; give the direction γ")
        # ⟨γ, ∇ₓΦ(x̄, y)⟩ = γ·∇b + yᵀJγ is maximised over the ball at y = r Jγ/‖Jγ‖
        v = J @ np.asarray(gamma, float)
        nv = np.linalg.norm(v)
        y = float(self.radius) * v / nv if nv > 0 else np.zeros(len(self.f.ys))
        return (gb + J.T @ y)[None, :]

    def second_order(self, xf, xb, g, active) -> float:
        c = np.array([ci(xf) for ci in self.cs])
        c1 = np.array([_slope(ci, g, xf) for ci in self.cs])
        c2 = np.array([_quad(ci, g, xf) for ci in self.cs])
        b2, r = abs(float(_quad(self.b, g, xf))), float(self.radius)
        if active.continuum:  # c(x̄) = 0: ‖c(x̄+tγ)‖ = t‖c′ + (t/2)c″‖ + O(t³)
            return 0.5 * b2 + 0.5 * r * float(np.linalg.norm(c2))
        nc = float(np.linalg.norm(c))
        curvature = (c @ c2 + c1 @ c1 - (c @ c1) ** 2 / nc**2) / nc  # d²/dt² ‖c(x̄ + tγ)‖
        return 0.5 * b2 + 0.5 * r * abs(curvature)


class _Separable:
    """Φ separable over a product of intervals, Φ = base(x) + Σⱼ φⱼ(x, yⱼ): S* is the product of
    the coordinates' maximiser sets (an Interval is the one-coordinate case, base 0)."""

    def __init__(self, f: "MaxFunction", base: sp.Poly, parts: list[tuple[sp.Poly, Any, Any]]):
        self.f, self.base_exact, self.base = f, base, NumPoly.of(base)
        self.parts = [(P, NumPoly.of(P), sp.S(lo), sp.S(hi)) for P, lo, hi in parts]

    def value(self, X: np.ndarray) -> np.ndarray:
        return self.base(X) + sum(polynomial_max(g, X, float(lo), float(hi)) for _, g, lo, hi in self.parts)

    def maximisers(self, xb: list) -> MaximiserSet:
        total = sp.N(self.base_exact(*xb), PRECISION)
        per_coordinate, continuum = [], False
        for P, _, lo, hi in self.parts:
            pts, value, whole = interval_maximisers(univariate_at(P, xb), lo, hi)
            per_coordinate.append(pts)
            continuum |= whole
            total += value
        kind = self.f.domain.continuum if continuum else ""
        return MaximiserSet(tuple(itertools.product(*per_coordinate)) if not continuum else (), kind, total)

    def _coordinate_maximisers(self, j: int, P: sp.Poly, lo, hi, xb, active) -> tuple[list[float], bool]:
        """The maximisers of coordinate j as floats, and whether they are all of [lo, hi]."""
        if active.continuum:
            pts, _, whole = interval_maximisers(univariate_at(P, xb), lo, hi)
            return [float(t) for t in pts], whole
        return sorted({float(p[j]) for p in active.points}), False

    def candidates(self, xf, xb, gamma, active) -> np.ndarray:
        n = self.f.n
        g0 = np.array([self.base.diff(i)(xf) for i in range(n)])
        options = []
        for j, (P, g, lo, hi) in enumerate(self.parts):
            grads = [g.diff(i) for i in range(n)]
            ys, whole = self._coordinate_maximisers(j, P, lo, hi, xb, active)
            if whole:  # S*ⱼ = [lo, hi]: maximise the polynomial ⟨γ, ∇ₓφⱼ(x̄, y)⟩ over it
                if gamma is None:
                    raise ValueError("S*(x̄) contains an interval; give the direction γ")
                ys = maximise_numeric(lambda t: sum(gi * gr(rows_xy(xf, t)) for gi, gr in zip(gamma, grads)),
                                      float(lo), float(hi))
            options.append([np.array([gr(rows_xy(xf, np.array([t])))[0] for gr in grads]) for t in ys])
        return np.array([g0 + sum(choice) for choice in itertools.product(*options)])

    def second_order(self, xf, xb, g, active) -> float:
        n = self.f.n
        q = 0.5 * abs(float(_quad(self.base, g, xf)))
        for j, (P, p, lo, hi) in enumerate(self.parts):
            ys, whole = self._coordinate_maximisers(j, P, lo, hi, xb, active)
            if whole:  # piece = C + t·ψ(y) + (t²/2)·γᵀΦₓₓγ(y): bound the last over the interval
                grid = np.linspace(float(lo), float(hi), 201)
                q += 0.5 * float(np.max(np.abs(_quad(p, g, rows_xy(xf, grid)))))
                continue
            worst = 0.0
            for yv in ys:
                V = np.append(xf, yv)
                pxx, pyy = float(_quad(p, g, V)), float(p.diff(n).diff(n)(V))
                pxy, py = float(_slope(p.diff(n), g, V)), float(p.diff(n)(V))
                if yv in (float(lo), float(hi)) and abs(py) > 1e-12:
                    worst = max(worst, abs(pxx))
                elif pyy < 0:
                    worst = max(worst, abs(pxx) + pxy**2 / abs(pyy))
                else:
                    raise ValueError(f"degenerate maximiser y = {yv} (Φᵧᵧ = {pyy}): no O(t) remainder bound")
            q += 0.5 * worst
        return q


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
        self.poly  # noqa: B018 - a Φ that is not a polynomial in (xs, ys) fails here, at construction
        self.domain.validate(self)

    @property
    def n(self) -> int:
        return len(self.xs)

    @functools.cached_property
    def poly(self) -> sp.Poly:
        return sp.Poly(self.phi, *self.xs, *self.ys)

    @functools.cached_property
    def _structure(self) -> _Pieces | _Affine | _Separable:
        return self.domain.structure(self)

    def value(self, X) -> np.ndarray:
        """f at a batch of points X of shape (B, n), float64."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[-1] != self.n:
            raise ValueError(f"points must have {self.n} coordinates, got shape {X.shape}")
        return self._structure.value(X)

    def maximisers(self, x_bar: Sequence) -> MaximiserSet:
        """S*(x̄), exact for rational x̄ (ties compared at 50 digits)."""
        return self._structure.maximisers([exact(v) for v in x_bar])

    def danskin_candidates(self, x_bar: Sequence, gamma: Sequence[float] | None = None,
                           active: MaximiserSet | None = None) -> np.ndarray:
        """Gradients ∇ₓΦ(x̄, y), y ∈ S*(x̄), shape (K, n), among which
        max_{y∈S*(x̄)} ⟨γ, ∇ₓΦ(x̄, y)⟩ is attained: all of S* when it is finite, the
        vertices of a simplex face, and γ-dependent points for a continuum."""
        active = active or self.maximisers(x_bar)
        xf = np.array([float(v) for v in x_bar])
        return self._structure.candidates(xf, [exact(v) for v in x_bar], gamma, active)

    def second_order_constant(self, x_bar: Sequence, gamma: Sequence[float],
                              active: MaximiserSet | None = None) -> float:
        """Q = max over the smooth local pieces of f through S*(x̄) of ½|d²/dt² piece(x̄ + tγ)|
        at t = 0, so that |(f(x̄+tγ) − f(x̄))/t − D_γ f(x̄)| ≤ t·Q + O(t²) (Taylor for each
        piece; near x̄, f is their max). Interior nondegenerate maximiser y*: the envelope
        second derivative γᵀΦₓₓγ + (γᵀΦₓᵧ)²/|Φᵧᵧ|; strict boundary maximiser: γᵀΦₓₓγ."""
        active = active or self.maximisers(x_bar)
        xf = np.array([float(v) for v in x_bar])
        return self._structure.second_order(xf, [exact(v) for v in x_bar], np.asarray(gamma, dtype=float), active)
