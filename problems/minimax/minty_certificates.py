"""Certified bounds on the weak-Minty constant rho and the Lipschitz constant L of the
polynomial games of ``problems.minimax.minty_games`` (an interval [lower, upper] that
provably contains the true value, not a grid estimate).

rho(D) = inf_{z in D, V(z) != 0} N(z)/D(z),  N = <V(z), z - z*>,  D = ||V(z)||^2.

* Upper bound: N/D at one point, in exact rational arithmetic (the point is a float,
  hence a rational; z* is enclosed in a box of radius ``solution_radius``).
* Lower bound l: N - l D >= 0 on D, proved by branch and bound (:func:`certify_nonnegative`)
  with the Taylor form of the polynomial at each box centre. Near z* both N and D vanish
  (0/0), so a box B0 around z* is certified separately by the mean-value form:
  V(z) = M (z - z*) with the rows of M in the interval hull of DV(B0) (V(z*) = 0 and B0
  convex). With u = Mh the ratio is <u, M^-1 u>/|u|^2 >= lambda_min(sym M^-1), and for
  ||M - Mc||_2 <= e, ||M^-1 - Mc^-1|| <= k^2 e/(1 - k e), k = ||Mc^-1||, so
      N/D >= lambda_min(sym Mc^-1) - k^2 e / (1 - k e)   on B0
  (the exact local limit lambda_min(sym DV(z*)^-1) as B0 shrinks).
* Lipschitz: sigma_max(DV)^2 <= t on D iff 2t - |DV|_F^2 >= 0 and t^2 - t |DV|_F^2 + det(DV)^2 >= 0
  (both polynomial), proved by the same branch and bound; the lower bound is ||DV|| at a point.

Rounding: every polynomial bound is computed in float64 and widened by gamma_m * (the same
expression on absolute values), gamma_m = m u / (1 - m u), u = 2^-53, with m counting the
roundings of the longest chain (two matrix products and one sum, each over at most (n+1)^2
terms, plus the powers): the standard a-priori bound for sums of products (Higham, ASNA, 3.1).
The polar game needs none of this: its ratio and ||DV|| depend on r^2 only, so rho is exact
(sympy) and L is certified by univariate root counting (:func:`polar_constants`).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import comb, nextafter

import numpy as np
import sympy as sp

from problems.minimax.minty_games import Ball, Box, X, Y

Array = np.ndarray
UNIT_ROUNDOFF = 2.0**-53


# ------------------------------------------------------------ polynomials
@dataclass(frozen=True)
class BivariatePolynomial:
    """sum_{i,j} coeffs[i, j] x^i y^j with float coefficients rounded from exact rationals."""

    coeffs: Array

    @classmethod
    def from_sympy(cls, expr: sp.Expr) -> "BivariatePolynomial":
        poly = sp.Poly(sp.expand(expr), X, Y)
        n = max(1, poly.total_degree())
        c = np.zeros((n + 1, n + 1))
        for (i, j), v in poly.terms():
            c[i, j] = float(v)
        return cls(c)

    @property
    def degree(self) -> int:
        return self.coeffs.shape[0] - 1


def _shift_matrix(centre: Array, n: int) -> Array:
    """S[b, i, k] = C(k, i) c_b^(k - i) for k >= i: (c + t)^k = sum_i S[i, k] t^i."""
    k = np.arange(n + 1)
    binom = np.array([[comb(kk, ii) for kk in k] for ii in k], dtype=float)
    expo = np.clip(k[None, :] - k[:, None], 0, None)
    return binom[None] * np.power(centre[:, None, None], expo[None]) * (k[None, :] >= k[:, None])[None]


def taylor_lower_bound(poly: BivariatePolynomial, centre: Array, half_width: Array) -> Array:
    """A rigorous lower bound of ``poly`` on each box centre[b] +- half_width[b] (shape (B, 2)).

    Shift the coefficients to the centre (P(c + t) = sum a_ij t1^i t2^j), bound each monomial
    on the box ([0, w^i] when both exponents are even, [-w, w] otherwise) and subtract the
    rounding bound gamma_m * sum |a|_ij w^(i+j) of the same computation on absolute values."""
    n = poly.degree
    sx, sy = _shift_matrix(centre[:, 0], n), _shift_matrix(centre[:, 1], n)
    a = sx @ poly.coeffs[None] @ np.swapaxes(sy, 1, 2)
    abs_a = (np.abs(_shift_matrix(np.abs(centre[:, 0]), n)) @ np.abs(poly.coeffs)[None]
             @ np.swapaxes(_shift_matrix(np.abs(centre[:, 1]), n), 1, 2))
    i = np.arange(n + 1)
    w = half_width[:, 0, None, None] ** i[None, :, None] * half_width[:, 1, None, None] ** i[None, None, :]
    even = ((i[:, None] % 2 == 0) & (i[None, :] % 2 == 0))[None]
    low = np.where(even, np.minimum(a, 0.0), -np.abs(a)) * w
    low[:, 0, 0] = a[:, 0, 0]
    m = 3 * (n + 1) ** 2 + 4 * n + 8
    gamma = m * UNIT_ROUNDOFF / (1 - m * UNIT_ROUNDOFF)
    return low.sum(axis=(1, 2)) - 2 * gamma * (abs_a * w).sum(axis=(1, 2))


@dataclass(frozen=True)
class NonnegativityCertificate:
    certified: bool
    boxes: int  # boxes examined in all
    depth: int
    open_boxes: Array  # centres of the boxes left undecided (empty when certified)


def certify_nonnegative(polys: list[BivariatePolynomial], domain: Box | Ball, *, exclude: tuple | None = None,
                        offset: float = 0.0, initial: int = 16, max_depth: int = 30,
                        max_open: int = 400_000) -> NonnegativityCertificate:
    """Prove min_k-wise: at every z of ``domain`` (outside the box ``exclude`` = (lo, hi)) at
    least one polynomial of ``polys`` is > ``offset`` (a rigorous extra margin subtracted
    from every lower bound). Boxes that straddle a ball's boundary count as whole boxes."""
    h = domain.half_width
    g = (np.arange(initial) + 0.5) / initial * 2 * h - h
    centre = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    half = np.full_like(centre, h / initial)
    examined = 0
    for depth in range(max_depth + 1):
        examined += len(centre)
        keep = np.ones(len(centre), bool)
        if isinstance(domain, Ball):  # the nearest point of the box is outside the ball: not in D
            nearest = np.clip(0.0, centre - half, centre + half)
            keep &= np.linalg.norm(nearest, axis=1) <= domain.radius
        if exclude is not None:
            lo, hi = exclude
            keep &= ~np.all((centre - half >= lo) & (centre + half <= hi), axis=1)
        if keep.any():
            ok = np.zeros(keep.sum(), bool)
            for p in polys:
                ok |= taylor_lower_bound(p, centre[keep], half[keep]) > offset
            keep[np.flatnonzero(keep)[ok]] = False
        centre, half = centre[keep], half[keep]
        if len(centre) == 0:
            return NonnegativityCertificate(True, examined, depth, np.empty((0, 2)))
        if 4 * len(centre) > max_open or depth == max_depth:
            break
        quarter = half / 2
        signs = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], float)
        centre = (centre[:, None, :] + signs[None] * quarter[:, None, :]).reshape(-1, 2)
        half = np.repeat(quarter, 4, axis=0)
    return NonnegativityCertificate(False, examined, depth, centre)


def _abs_bound(poly: BivariatePolynomial, h: float) -> float:
    """sup over [-h, h]^2 of |poly| <= sum |c_ij| h^(i+j) (rounded up by 1e-12 relative)."""
    i = np.arange(poly.degree + 1)
    return float(np.sum(np.abs(poly.coeffs) * h ** np.add.outer(i, i))) * (1 + 1e-12)


def _up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else nextafter(f, np.inf)


def _down(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) <= q else nextafter(f, -np.inf)


def _exact(expr_poly: sp.Poly, point: tuple[Fraction, Fraction]) -> Fraction:
    total = Fraction(0)
    for (i, j), v in expr_poly.terms():
        total += Fraction(int(v.p), int(v.q)) * point[0] ** i * point[1] ** j
    return total


# ------------------------------------------------------------------- rho
@dataclass(frozen=True)
class CertifiedInterval:
    """lower <= true value <= upper, both proved; ``detail`` says how."""

    lower: float
    upper: float
    detail: str

    @property
    def width(self) -> float:
        return self.upper - self.lower

    def as_list(self) -> list[float]:
        return [self.lower, self.upper]


def field_of(game) -> tuple[sp.Expr, sp.Expr]:
    """(V1, V2) as sympy expressions in (X, Y) with exact rational coefficients."""
    return tuple(sp.nsimplify(sp.expand(e), rational=True) for e in game.operator_expr)


def _ratio_upper(fields, point: Array, solution: Array, radius: float) -> Fraction:
    """max over z* in solution +- radius of N/D at ``point`` (exact; N < 0 assumed at the point)."""
    z = (Fraction(float(point[0])), Fraction(float(point[1])))
    v = [_exact(sp.Poly(f, X, Y), z) for f in fields]
    den = v[0] ** 2 + v[1] ** 2
    if den == 0:
        raise ValueError("the upper-bound point is a zero of V")
    best = None
    for s0 in (-1, 1):
        for s1 in (-1, 1):
            zs = (Fraction(float(solution[0])) + s0 * Fraction(radius),
                  Fraction(float(solution[1])) + s1 * Fraction(radius))
            r = (v[0] * (z[0] - zs[0]) + v[1] * (z[1] - zs[1])) / den
            best = r if best is None or r > best else best
    return best


def _local_ratio_bound(fields, solution: Array, half: float) -> float:
    """Rigorous lower bound of N/D on the box solution +- half (mean-value form, module docstring)."""
    lo, hi = np.zeros((2, 2)), np.zeros((2, 2))
    centre, width = np.asarray(solution, float)[None], np.full((1, 2), half)
    for r, f in enumerate(fields):
        for c, var in enumerate((X, Y)):
            d = sp.diff(f, var)
            lo[r, c] = taylor_lower_bound(BivariatePolynomial.from_sympy(d), centre, width)[0]
            hi[r, c] = -taylor_lower_bound(BivariatePolynomial.from_sympy(-d), centre, width)[0]
    mc, e = (lo + hi) / 2, np.linalg.norm((hi - lo) / 2) * (1 + 1e-12) + 1e-15
    inv = np.linalg.inv(mc)
    k = np.linalg.norm(inv, 2) * (1 + 1e-12)
    if k * e >= 1:
        return -np.inf
    # 2x2 float inverse and eigenvalues carry relative errors ~1e-15; 1e-12 covers them
    lam = np.linalg.eigvalsh((inv + inv.T) / 2)[0]
    return lam - k * k * e / (1 - k * e) - 1e-12 * (1 + abs(lam))


@lru_cache(maxsize=None)
def _certified_rho_cached(key, fields, domain, solution, solution_radius, point, local_half, slack):
    solution, point = np.array(solution), np.array(point)
    upper_q = _ratio_upper(fields, point, solution, solution_radius)
    upper = _up(upper_q)
    lower = _down(upper_q) - slack * max(1.0, abs(upper))
    local = _local_ratio_bound(fields, solution, local_half)
    if not local > lower:
        return CertifiedInterval(-np.inf, upper, f"local bound {local:.4g} near z* does not exceed {lower:.6g}")
    # N uses the float solution zhat; |<V, zhat - z*>| <= radius (|V1| + |V2|) <= radius * vbound
    zx, zy = (sp.Rational(float(s)) for s in solution)
    num = fields[0] * (X - zx) + fields[1] * (Y - zy)
    den = fields[0] ** 2 + fields[1] ** 2
    p = BivariatePolynomial.from_sympy(num - sp.Rational(lower) * den)
    vbound = sum(_abs_bound(BivariatePolynomial.from_sympy(f), domain.half_width) for f in fields)
    excl = (solution - local_half, solution + local_half)
    cert = certify_nonnegative([p], domain, exclude=excl, offset=solution_radius * vbound * 2)
    if not cert.certified:
        return CertifiedInterval(-np.inf, upper, f"branch and bound left {len(cert.open_boxes)} boxes open")
    return CertifiedInterval(lower, upper, f"N - l D >= 0 by branch and bound ({cert.boxes} boxes, depth "
                             f"{cert.depth}); box +-{local_half} around z* by the mean-value form "
                             f"(ratio >= {local:.4f}); upper: exact ratio at {tuple(np.round(point, 6))}")


def certified_weak_minty_rho(fields: tuple[sp.Expr, sp.Expr], domain: Box | Ball, solution: Array, point: Array, *,
                             solution_radius: float = 0.0, local_half: float = 0.02,
                             slack: float = 1e-7) -> CertifiedInterval:
    """[lower, upper] containing rho = inf_D <V(z), z - z*>/||V(z)||^2 of the polynomial field
    ``fields`` (sympy, exact coefficients). ``point`` is where the upper bound is evaluated
    (an estimate of the argmin), ``solution`` +- ``solution_radius`` encloses the zero z*, and
    the lower bound is the upper one minus ``slack`` * max(1, |upper|), proved (module
    docstring); a failed proof returns lower = -inf with the reason."""
    key = (tuple(map(str, fields)), repr(domain))
    return _certified_rho_cached(key, tuple(fields), domain, tuple(np.asarray(solution, float)), solution_radius,
                                 tuple(np.asarray(point, float)), local_half, slack)


# -------------------------------------------------------------- Lipschitz
def certified_lipschitz(fields: tuple[sp.Expr, sp.Expr], domain: Box | Ball, point: Array, *,
                        slack: float = 1e-6) -> CertifiedInterval:
    """[lower, upper] containing L = sup_D ||DV(z)||_2: lower = ||DV(point)|| (float, rounded
    down by 1e-12 relative), upper = lower (1 + ``slack``) proved by branch and bound."""
    jac = sp.Matrix([[sp.diff(f, v) for v in (X, Y)] for f in fields])
    value = float(np.linalg.norm(np.array(jac.subs({X: float(point[0]), Y: float(point[1])}), dtype=float), 2))
    lower = value * (1 - 1e-12)
    upper = value * (1 + slack)
    t = sp.Rational(upper) ** 2
    frob = sum(e**2 for e in jac)
    det = jac.det()
    polys = [BivariatePolynomial.from_sympy(2 * t - frob)]
    quartic = BivariatePolynomial.from_sympy(t**2 - t * frob + det**2)
    first = certify_nonnegative(polys, domain)
    second = certify_nonnegative([quartic], domain)
    if not (first.certified and second.certified):
        return CertifiedInterval(lower, np.inf, "branch and bound on sigma_max^2 <= t left boxes open")
    return CertifiedInterval(lower, upper, f"sigma_max(DV)^2 <= t by branch and bound ({first.boxes + second.boxes} "
                             f"boxes); lower: ||DV|| at {tuple(np.round(point, 6))}")


# ------------------------------------------------------------- polar game
def polar_constants(a, b=1, half_width="11/10") -> tuple[sp.Expr, CertifiedInterval]:
    """Exact rho and certified L of the polar game V = (-b y + x g, b x + y g), g = a (s - 1)(16 s - 9)/16,
    s = r^2, on the box [-h, h]^2 (every s in [0, 2h^2] is attained on the diagonal).

    <V, z> = g s and ||V||^2 = (b^2 + g^2) s, so the ratio is g/(b^2 + g^2), whose s-derivative
    g'(b^2 - g^2) vanishes where g' = 0 or g = +-b: rho is the minimum over those points and the
    ends (exact). In the basis (z/r, z_perp/r) DV = [[g + 2 g' s, -b], [b, g]], g' = dg/ds: its
    sigma_max^2 <= t on [0, 2h^2] iff 2t - F >= 0 and t^2 - t F + det^2 >= 0 (F = |DV|_F^2),
    certified by counting real roots (sympy) for a rational t just above the sampled maximum."""
    a, b, h = sp.nsimplify(a), sp.nsimplify(b), sp.nsimplify(half_width)
    s = sp.Symbol("s", real=True)
    g = a * (s - 1) * (16 * s - 9) / 16
    dg = sp.diff(g, s)
    top = 2 * h**2
    candidates = {sp.Integer(0), top}
    for eq in (dg, g - b, g + b):
        candidates |= {r for r in sp.Poly(eq, s).real_roots() if 0 <= r <= top}
    ratio = g / (b**2 + g**2)
    rho = min((sp.nsimplify(sp.simplify(ratio.subs(s, c))) for c in candidates), key=lambda v: float(v))
    F = (g + 2 * dg * s) ** 2 + g**2 + 2 * b**2
    det = g * (g + 2 * dg * s) + b**2
    grid = np.linspace(0.0, float(top), 20001)
    Ff = sp.lambdify(s, F)(grid)
    detf = sp.lambdify(s, det)(grid)
    sig2 = (Ff + np.sqrt(np.maximum(Ff**2 - 4 * detf**2, 0))) / 2
    k = int(np.argmax(sig2))
    lower = float(np.sqrt(sig2[k])) * (1 - 1e-12)
    t = sp.Rational(float(sig2.max()) * (1 + 1e-9))
    ok = True
    for q in (sp.Poly(2 * t - F, s), sp.Poly(t**2 - t * F + det**2, s)):
        ok &= q.count_roots(0, top) == 0 and q.eval(0) > 0
    upper = float(sp.sqrt(t).evalf(30)) * (1 + 1e-15) if ok else np.inf
    return rho, CertifiedInterval(lower, upper, "univariate in s = r^2: root counting (sympy) for sigma_max^2 <= t"
                                  f"; maximum at s = {grid[k]:.4f} of [0, {float(top)}]")


# ------------------------------------------------------ the games' constants
def _ratio_minimiser(fields, domain: Box | Ball, solution: Array, start: Array | None) -> Array:
    """A point near the argmin of N/D (any point gives a valid upper bound; a good one a tight
    interval): the best of a 201^2 grid (or ``start``), polished by Nelder-Mead. Independent of
    the registry's ``weak_minty_rho`` estimator, which the checks put under test."""
    from scipy.optimize import minimize

    f = sp.lambdify((X, Y), fields, "numpy")

    def ratio(z):
        v = np.array(f(z[..., 0], z[..., 1]), dtype=float)
        v = np.moveaxis(np.broadcast_to(v, (2, *np.shape(z)[:-1])), 0, -1)
        den = np.sum(v * v, -1)
        inside = domain.contains(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((den > 1e-20) & inside, np.sum(v * (z - solution), -1) / den, np.inf)

    if start is None:
        g = np.linspace(-domain.half_width, domain.half_width, 201)
        pts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        start = pts[np.argmin(ratio(pts))]
    res = minimize(lambda z: float(ratio(np.asarray(z)[None])[0]), np.asarray(start, float), method="Nelder-Mead",
                   options={"xatol": 1e-12, "fatol": 1e-16, "maxiter": 4000})
    return res.x if ratio(res.x[None])[0] <= ratio(np.asarray(start, float)[None])[0] else np.asarray(start, float)


@dataclass(frozen=True)
class CertifiedConstants:
    rho: CertifiedInterval
    lipschitz: CertifiedInterval

    @property
    def rho_times_L(self) -> tuple[float, float]:
        """Enclosure of rho L (rho < 0 assumed where used; both signs handled)."""
        corners = [r * lip for r in self.rho.as_list() for lip in self.lipschitz.as_list()]
        return float(np.nextafter(min(corners), -np.inf)), float(np.nextafter(max(corners), np.inf))


def _exact_interval(value: sp.Expr, how: str) -> CertifiedInterval:
    q = sp.Rational(value) if value.is_rational else None
    if q is not None:
        frac = Fraction(int(q.p), int(q.q))
        return CertifiedInterval(_down(frac), _up(frac), how)
    v = float(sp.N(value, 40))
    return CertifiedInterval(float(np.nextafter(v, -np.inf)), float(np.nextafter(v, np.inf)), how)


@lru_cache(maxsize=None)
def certified_constants(instance, lipschitz_slack: float = 1e-4) -> CertifiedConstants:
    """Certified rho and L of a :class:`~problems.minimax.minty_games.MintyInstance` (polar
    game: exact rho, L by root counting; Forsaken, GlobalForsaken: branch and bound for rho,
    the exact separable L on boxes, branch and bound for L on the ball)."""
    op = instance.operator
    if "a" in instance.extra:  # the polar game, parameters kept exact
        rho, lip = polar_constants(instance.extra["a"], instance.extra["b"], sp.nsimplify(instance.domain.half_width))
        return CertifiedConstants(_exact_interval(rho, "exact (sympy): min of g/(b^2 + g^2) over s = r^2"), lip)
    fields = field_of(op)
    solution = np.asarray(instance.solution, float)
    # z* of Forsaken is an algebraic number evaluated to 30 digits, then rounded to float: |error| <= 1 ulp
    radius = 0.0 if np.all(solution == 0) else 4 * float(np.max(np.spacing(np.abs(solution))))
    point = _ratio_minimiser(fields, instance.domain, solution, instance.rho_argmin)
    rho = certified_weak_minty_rho(fields, instance.domain, solution, point, solution_radius=radius, slack=1e-9)
    if instance.lipschitz_exact is not None:
        lip = _exact_interval(instance.lipschitz_exact, "exact (sympy): vertex of the separable Jacobian's range")
    else:
        g = np.linspace(-instance.domain.half_width, instance.domain.half_width, 401)
        pts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        pts = pts[instance.domain.contains(pts)]
        norms = np.linalg.norm(op.jacobian(pts), 2, axis=(-2, -1))
        lip = certified_lipschitz(fields, instance.domain, pts[np.argmax(norms)], slack=lipschitz_slack)
    return CertifiedConstants(rho, lip)
