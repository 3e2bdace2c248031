"""One contract per algorithm family: what a registered callable takes and returns.

A contract is one object (:class:`Contract`): a ``typing.Protocol`` whose ``__call__``
is the call signature, the text that the README and the error messages quote, and the
check of the output. A user's substitute (``--impl NAME=module:attr``) must honour the
contract of NAME's family, and the checks call through it only with the contract's
arguments (the ``algorithm`` fixture refuses any other call, naming the argument).

Where a Protocol takes ``**options`` the family's methods have parameters of their own
(EG+'s ``damping``, a schedule's ``gamma``): the contract of one name is the Protocol's
parameters plus the keyword parameters of that name's reference implementation, as its
docstring documents them. Families whose members differ in shape (measurements,
estimators, networks) have a Protocol ``(*args, **options)``: the contract of each
name is its reference's signature.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

P = inspect.Parameter


class ContractError(RuntimeError):
    """An implementation under test broke its family's contract."""


class ContractViolation(TypeError):
    """A check called a registry name with arguments outside its family's contract."""


# ---------------------------------------------------------------- protocols
class MinimaxMethod(Protocol):
    def __call__(self, operator: Any, z0: np.ndarray, alpha: Any, num_steps: int, *,
                 z_prev: np.ndarray | None = None, **options: Any) -> np.ndarray: ...


class StochasticMinimaxMethod(Protocol):
    def __call__(self, oracle: Any, z0: np.ndarray, gamma: float, schedule: Callable[[int], Any],
                 num_steps: int, rng: np.random.Generator, *, projection: Callable | None = None,
                 record: Any = None, **options: Any) -> np.ndarray: ...


class OptimizerClass(Protocol):
    def __call__(self, params: Any, lr: float = ..., **hyper: Any) -> Any: ...


class Attack(Protocol):
    def __call__(self, loss_fn: Callable, x: Any, eps: float, steps: int, step_size: float, rng: Any = None,
                 *, restarts: int = 1, clip: tuple[float, float] | None = None, **options: Any) -> Any: ...


class CriticalPointTest(Protocol):
    def __call__(self, hessian_eigenvalues: np.ndarray, tol: float) -> np.ndarray: ...


class Schedule(Protocol):
    def __call__(self, k: Any, **parameters: Any) -> np.ndarray: ...


class PerName(Protocol):
    """Families whose members differ in shape: each name's contract is its reference's signature."""

    def __call__(self, *args: Any, **options: Any) -> Any: ...


# ---------------------------------------------------------------- output checks
def _floating(name: str, family: str, out: Any) -> None:
    arr = np.asarray(out.detach().cpu() if hasattr(out, "detach") else out)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ContractError(f"R3 shape/dtype: {name} returned dtype {arr.dtype}; the {family} contract "
                            f"asks for floating point (float64)")


def _trajectory(name: str, out: Any, arguments: dict[str, Any]) -> None:
    """minimax: a float array (num_steps + 1, *z0.shape)."""
    if not (isinstance(out, np.ndarray) or hasattr(out, "detach")):
        raise ContractError(f"R3 shape/dtype: {name} returned {type(out).__name__}; the minimax contract "
                            f"asks for an array (num_steps + 1, *z0.shape)")
    _floating(name, "minimax", out)
    expected = (int(arguments["num_steps"]) + 1, *np.shape(arguments["z0"]))
    if tuple(out.shape) != expected:
        raise ContractError(f"R3 shape/dtype: {name} returned shape {tuple(out.shape)}; the minimax contract "
                            f"asks for (num_steps + 1, *z0.shape) = {expected}")


def _stochastic_iterates(name: str, out: Any, arguments: dict[str, Any]) -> None:
    if isinstance(out, np.ndarray) or hasattr(out, "detach"):
        _floating(name, "stochastic_minimax", out)


# ---------------------------------------------------------------- the contract object
@dataclass(frozen=True)
class Contract:
    family: str
    text: str
    protocol: type
    output: Callable[[str, Any, dict[str, Any]], None] | None = field(default=None)

    def signature(self, reference: Any) -> inspect.Signature:
        """The call signature of one name of the family (see the module docstring)."""
        return _signature(self.protocol, reference)

    def check_call(self, name: str, reference: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        """Raise ContractViolation if a check calls ``name`` outside its contract."""
        _check_call(self, name, reference, len(args), tuple(sorted(kwargs)))

    def check_output(self, name: str, reference: Any, out: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        """Raise ContractError (R3) if ``out`` is not what the family returns."""
        if self.output is not None:
            bound = self.signature(reference).bind(*args, **kwargs)
            bound.apply_defaults()
            self.output(name, out, bound.arguments)

    def lacks(self, impl: Any, name: str, reference: Any, args: tuple, kwargs: dict[str, Any]) -> str | None:
        """Why ``impl`` cannot take a call the contract allows (None if it can)."""
        try:
            own = inspect.signature(impl)
        except (TypeError, ValueError):
            return None
        try:
            own.bind(*args, **kwargs)
        except TypeError as exc:
            params = own.parameters.values()
            takes_any = any(p.kind is P.VAR_KEYWORD for p in params)
            missing = [k for k in kwargs if k not in own.parameters and not takes_any]
            what = (f"lacks the keyword argument(s) {', '.join(map(repr, missing))}" if missing
                    else f"cannot take the call ({exc})")
            return (f"{name} {what} of its {self.family} contract {name}{self.signature(reference)} "
                    f"(accept every contract argument, even one your implementation ignores)")
        return None


@functools.lru_cache(maxsize=None)
def _signature(protocol: type, reference: Any) -> inspect.Signature:
    proto = list(inspect.signature(protocol.__call__).parameters.values())[1:]  # drop self
    ret = inspect.signature(protocol.__call__).return_annotation
    try:
        own = inspect.signature(reference)
    except (TypeError, ValueError):
        own = None
    if own is None:
        return inspect.Signature(proto, return_annotation=ret)
    if any(p.kind is P.VAR_POSITIONAL for p in proto):
        return own
    fixed = [p.replace(default=own.parameters[p.name].default)  # the reference's default where the
             if p.default is Ellipsis and p.name in own.parameters else p  # Protocol leaves it open
             for p in proto if p.kind is not P.VAR_KEYWORD]
    names = {p.name for p in fixed}
    extras = [p.replace(kind=P.KEYWORD_ONLY) for p in own.parameters.values()
              if p.name not in names and p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)]
    tail = [p for p in proto if p.kind is P.VAR_KEYWORD
            and any(q.kind is P.VAR_KEYWORD for q in own.parameters.values())]
    ordered = ([p for p in fixed if p.kind is not P.KEYWORD_ONLY]
               + [p for p in fixed if p.kind is P.KEYWORD_ONLY] + extras + tail)
    return inspect.Signature(ordered, return_annotation=ret)


@functools.lru_cache(maxsize=4096)
def _check_call(contract: Contract, name: str, reference: Any, nargs: int, keywords: tuple[str, ...]) -> None:
    sig = contract.signature(reference)
    try:
        sig.bind(*range(nargs), **dict.fromkeys(keywords))
    except TypeError as exc:
        unknown = [k for k in keywords if k not in sig.parameters]
        what = (f"passes {', '.join(map(repr, unknown))}, which the contract does not have" if unknown
                else f"does not match it ({exc})")
        raise ContractViolation(
            f"a check calls {name} with {nargs} positional argument(s) and keywords {list(keywords)}: it {what}. "
            f"The {contract.family} contract: {name}{sig}. A user's implementation written to the contract would "
            f"be blamed for this call: fix the check, or the contract (algorithms/contracts.py and the "
            f"reference's docstring) if the argument belongs to it.") from None


class Checked:
    """An implementation as the registry hands it out: each call is checked against ``name``'s
    contract (a ContractViolation names the argument a caller passes outside it); attributes,
    equality and hash are the implementation's own. One per implementation object (:func:`checked`),
    so a memo keyed by ``id(engine)`` hits as it would on the bare object."""

    __slots__ = ("_name", "_contract", "_reference", "_obj")

    def __init__(self, name: str, contract: Contract, reference: Any, obj: Any):
        self._name, self._contract, self._reference, self._obj = name, contract, reference, obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._contract.check_call(self._name, self._reference, args, kwargs)
        return self._obj(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._obj, attr)

    def __eq__(self, other: Any) -> bool:
        return self._obj == (other._obj if isinstance(other, Checked) else other)

    def __hash__(self) -> int:
        return hash(self._obj)

    def __repr__(self) -> str:
        return f"{self._obj!r} (calls checked against the {self._contract.family} contract)"


_CHECKED: dict[tuple[str, int], tuple[Any, Checked]] = {}


def checked(name: str, contract: Contract, reference: Any, obj: Any) -> Checked:
    """The one :class:`Checked` of ``obj`` as ``name`` (``obj`` is kept, so its id stays its own)."""
    key = (name, id(obj))
    if key not in _CHECKED or _CHECKED[key][0] is not obj:
        _CHECKED[key] = (obj, Checked(name, contract, reference, obj))
    return _CHECKED[key][1]


# ---------------------------------------------------------------- the families
def _contract(family: str, protocol: type, text: str, output=None) -> Contract:
    return Contract(family, text, protocol, output)


CONTRACTS: dict[str, Contract] = {c.family: c for c in (
    _contract("minimax", MinimaxMethod, """\
Deterministic first-order methods for the operator V(z) = (∇ₓΦ, −∇ᵧΦ).

    method(operator, z0, alpha, num_steps, *, z_prev=None, **options) -> trajectory

operator   callable, operator(z) -> V(z) for z of shape (B, d) (a batch of B
           points, float64); also operator.resolvent(z, alpha) = (I + αV)^{-1} z
           and operator.jacobian(z) of shape (B, d, d).
z0         array (B, d), float64; must not be modified.
alpha      step size, a float or an array (B,) (one step per batch row).
num_steps  K >= 0.
z_prev     two-step methods only: the point z₋₁ (default z0).
returns    array (K + 1, B, d): z₀ (= z0), z₁, …, z_K, finite unless the
           method itself diverges.
options    methods with more parameters take them keyword-only, with defaults: EG+ / CEG+
           (algorithms.extragradient_plus) damping=0.5 (the second step is damping·α),
           prox=None (prox(z, alpha) = (I + αA)^{-1} z, e.g. a projection); CurvatureEG+
           nu=0.99, tau=0.5, prox=None, and reads alpha as a cap on its adaptive step.""", _trajectory),
    _contract("stochastic_minimax", StochasticMinimaxMethod, """\
Stochastic extragradient methods for V(z, ζ) = V(z) + U(z, ζ) (slide 39 notation).

    method(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None)
        -> array (R, B, d): z_k at the recorded steps k

oracle      oracle.sample(rng, B) draws one sample ζ per row; oracle(z, zeta) -> V(z, ζ)
            for z (B, d) (the same ζ may be evaluated at several points); oracle.dim_x.
z0          array (B, d), float64 (B independent repetitions/starts); must not be modified.
gamma       the fixed scale γ of both steps (extrapolation β_k γ or γ, update α_k γ).
schedule    callable k -> (α_k, β_k) for k = 0, 1, … (methods without β ignore it).
num_steps   K >= 0.   rng: numpy Generator, the only source of randomness.
projection  None, or a callable P(z) (projection / resolvent of the constraint or regulariser).
record      the steps k in [0, K] to return (default: all, giving (K + 1, B, d)).""", _stochastic_iterates),
    _contract("optimizer", OptimizerClass, """\
First-order optimisers in the torch.optim style (a class, e.g. torch.optim.Adam).

    opt = optimizer([x], lr=alpha, **hyper)
    for k in range(K):
        opt.param_groups[g]["lr"] = alpha_k      # α_k, only where the check runs a schedule
        opt.zero_grad(); x.grad = g_k; opt.step()

x      one float64 tensor (B, d), requires_grad: row b is problem (or seed) b;
       the check writes the (stochastic) gradient at the current x into x.grad,
       reads x after step(), and may project x in place (clip to a box). The
       network checks pass a model's parameter list instead.
hyper  keywords named as the reference's signature names them: torch's names where
       torch has them (betas, eps); generator= (a torch.Generator) for methods drawing
       their own noise (psgd, sgld), radius= for AcceleGrad/UniXGrad's ball, b0= for
       adagrad_norm. Norm-based methods take norms per row.
opt.solution()  optional: methods whose reported point differs from the query
       point (AGD, AcceleGrad, UniXGrad) leave the next query point in x and
       return [reported point] here; default: x itself.
Coordinatewise methods are batch-independent, so torch.optim's own classes work:
--impl adam=torch.optim:Adam, sgd=torch.optim:SGD, adagrad=torch.optim:Adagrad."""),
    _contract("descent_direction", PerName, """\
    direction(gradients) -> d

gradients  array (B, K, n) float64: for each of B problems, the K gradients
           g_k = ∇ₓΦ(x, δ_k) at K maximisers (attacks) of a max-type
           function f = max_δ Φ; rows may repeat. Not modified.
returns    d of shape (B, n), not normalised (ddi_direction: d = −argmin{‖g‖:
           g ∈ conv{g_k}}; pgd_direction: d = −g₁; ddi_direction_apg(gradients,
           iterations=100), the paper's accelerated solver).
Also in this family: danskin_directional_derivative(gradients, directions) -> (B,),
the Danskin formula max_k ⟨γ_b, g_bk⟩ for directions γ of shape (B, n)."""),
    _contract("attack", Attack, """\
    attack(loss_fn, x, eps, steps, step_size, rng, *, restarts=1, clip=None) -> x_adv

loss_fn  torch (B, ...) -> per-example losses (B,), to be maximised.
x        torch tensor (B, ...), not modified; eps >= 0 is the radius of each
         example's ball (over all non-batch dims); steps, step_size >= 0.
rng      a CPU torch.Generator (or an int seed); restart 0 draws first, so with
         the same rng state R restarts never do worse than 1.
clip     (lo, hi): the box x_adv must stay in (x must lie in it), or None.
returns  x_adv like x: per example the best point found (x itself included):
         ‖x_adv − x‖ ≤ ε, lo ≤ x_adv ≤ hi, loss_fn(x_adv) ≥ loss_fn(x);
         eps = 0 or steps = 0 returns x. Extra keywords are optional."""),
    _contract("critical_point_test", CriticalPointTest, """\
The second-derivative test at a critical point.

    test(hessian_eigenvalues, tol) -> label

hessian_eigenvalues  array (B, n) of real eigenvalues of the Hessian at B
                     critical points; tol: |λ| ≤ tol counts as zero.
returns              array (B,) of labels among
                     'min', 'max', 'saddle', 'inconclusive'."""),
    _contract("mixed_nash", PerName, """\
Mixed equilibria of min_p max_q E Φ (the row / x player minimises).

    md(payoff, num_steps, eta, *, record=None) -> (pbar, qbar)
        payoff (B, m, n) or (m, n); eta a float or (eta_p, eta_q); returns the averaged
        strategies at the recorded T >= 1, arrays (R, B, m) and (R, B, n).
    particles(payoff, x0, y0, num_steps, eta, inner_steps, step, rng, *, record=None) -> (X, Y)
        payoff separable (problems.stochastic_minimax.mixed_games.SeparablePayoff); x0 (K, dx), y0 (K, dy);
        returns the particle sets at the recorded t, (R, K, dx) and (R, K, dy).
    pure(operator, z0, alpha, num_steps, *, low, high, record=None) -> (R, B, d)
        the projected pure-strategy baseline; operator(z) -> V(z) for z (B, d)."""),
    _contract("schedule", Schedule, """\
    schedule(k, **parameters) -> the step α_k  (k = 0, 1, 2, …), vectorised over k.

The parameters are keyword-only and named as the reference names them:
polynomial_step(k, *, gamma, m=1, p=1) = γ/(k + m)^p; constant_step(k, *, alpha) = α;
cooldown_step(k, *, alpha, cutoff, period)."""),
    _contract("measurement", PerName, """\
Measurements on models and games (lazy-training ratio, Lipschitz bounds, Rademacher
complexity, the weak-MVI constant ρ, …). Each name's contract is its reference's
signature, every parameter included (a keyword such as weak_minty_rho's grid=, the
resolution a check asks for, must be accepted even by an implementation that ignores it):

    weak_minty_rho(operator, domain, solution, *, grid=801, max_refinements=64)
        -> WeakMintyEstimate with .value (B,) and .argmin (B, 2)

and see the module docstrings (algorithms.network_measurements, complexity, wasserstein,
small_networks)."""),
    _contract("estimator", PerName, """\
Regression / classification estimators, float64 numpy, batched over leading axes
(algorithms.random_features, kernel_methods, local_estimators, small_networks):

    fit(F, Y, ...) -> theta          F (*batch, n, N), Y (*batch, n) or (*batch, n, k);
                                     θ (*batch, N[, k]); e.g. min_norm_least_squares(F, Y)
    make(dim, N, bandwidth, rng, batch=()) -> phi; phi(X (n, p)) -> (*batch, n, N)
                                     (random_fourier_features, random_relu_features)
    kernel(X, Z[, bandwidth]) -> (n, m);  kernel_ridge_regression(K, Y, ridge) -> alpha
    rule(x_train, y_train, x_test, ...) -> predictions (k_nearest_neighbours, ...)
    gradient_descent_least_squares(F, Y, step, K) -> (θ_K, ‖r_k‖² for k = 0..K)
    sgd_least_squares(F, y, step, epochs, rng, theta0=None, average=False) -> θ
Inputs are never modified; each name's contract is its reference's signature."""),
    _contract("network", PerName, """\
Networks, initialisation schemes and training (torch, float64, batched over B networks;
see algorithms.networks).

    relu_network(weights, alpha, inputs, *, output_relu=False) -> (B, n)
        weights [X_1 (B, m, p), X_l (B, m, m), ..., X_L (B, 1, m)], alpha (B,),
        inputs (n, p) or (B, n, p); h = (1/α) σ(X_L ⋯ σ(X₁a)), no biases,
        the output ReLU only when asked.
    init_<scheme>(p, m, depth, *, batch=1, seed=0, device="cpu", dtype=float64)
        -> InitDraw(weights, alpha); also init_<scheme>.variances(p, m) ->
        (β₁², β², β_L², α), plain arithmetic (works on sympy symbols).
    full_batch_gradient_descent(weights, alpha, inputs, targets, lr, num_steps, *,
        stop_loss=None, trainable=None, forward=None, monitor=None, record_every=1,
        keep_snapshots=True) -> {"weights", "loss" (T, B), "steps", "snapshots",
        "monitor", "stopped_at"}; GD on ½‖h − y‖², lr scalar or (B,).
    conv_relu_network(weights, alpha, inputs) -> (B, n): the bias-free CNN analogue.
    conv1d_relu_network(weights, alpha, inputs) -> (B, n): bias-free 1-D CNN, weights
        [K₁ (B, c, 1, 3), K_l (B, c, c, 3), …, X_L (B, 1, c·T)], inputs (n, T) or (B, n, T);
        conv1d_init(T, c, depth, *, batch, seed, device, dtype, gain) -> InitDraw."""),
    _contract("batched_training", PerName, """\
Many independent MLP classifiers trained as one batched computation (torch; float32 by
default; see algorithms.batched_training).

    train(x, y, specs, *, epochs, optimizer="adam", evaluate=None, record_at=(),
          stop_loss=None, init="he_uniform", bias=True, betas=(0.9, 0.999), eps=1e-8,
          momentum=0.9, device="cpu", dtype=torch.float32) -> TrainedPopulation

x          array (n, p), not modified;  y  labels (n,) or (R, n), not modified.
specs      NetworkSpec(hidden, lr, seed, batch_size=100, weight_decay=0.0, labels=0) per
           network: hidden widths, its learning rate, its seed (init draws and per-epoch
           minibatch permutations from torch.Generator().manual_seed(seed), CPU float64,
           layer by layer, weight before bias), its minibatch size and label row.
evaluate   {name: (x_e, y_e)}: sets measured besides "train" at the epochs record_at.
returns    TrainedPopulation: errors / losses {name: (M, T)}, epochs (T,), weights, biases,
           initial_weights, initial_biases (per network, float64, W_l (out, in)), steps,
           stopped_at. Each network's trajectory must equal training it alone with the
           update rule of its optimizer (Adam / SGD-momentum, PyTorch's conventions, L2
           weight decay) to floating-point tolerance, whatever networks share the run."""),
)}

# the contract texts by family, as the README and error messages quote them
FAMILIES: dict[str, str] = {name: c.text for name, c in CONTRACTS.items()}
