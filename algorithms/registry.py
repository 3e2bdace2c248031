"""The registry of algorithm names.

Every check takes the implementation under test from here, by name, never by
direct import; a user substitutes their own object for a name and every check
of that name runs against it (``--impl NAME=module:attr`` on the pytest command
line, or :func:`substituted` from code).

A name belongs to a *family*; the family's contract (``algorithms.contracts``)
says what the callable takes and returns. :data:`MODULES` says which module
registers which names, so a lookup imports that module only (a min-max check does
not pay for importing torch); ``checks/harness/test_registry.py`` keeps the table
and the registrations in step.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterator

# module -> the names it registers (by a call at its end; see CONTRIBUTING.md)
MODULES: dict[str, tuple[str, ...]] = {
    "algorithms.adaptive": ("accelerated_gradient", "adagrad", "adagrad_norm", "adam", "amsgrad",
                            "accelegrad", "unixgrad"),
    "algorithms.attacks": ("pgd_linf", "pgd_l2"),
    "algorithms.complexity": ("empirical_rademacher", "rademacher_exact_enumeration", "hoeffding_union_bound",
                              "one_sided_uniform_convergence", "bias_variance_decomposition",
                              "frobenius_distance_to_init", "parameter_frobenius_norm", "path_norm",
                              "spectral_complexity", "spectral_orig", "resnet_parameter_count"),
    "algorithms.batched_training": ("train_mlp_population",),
    "algorithms.conv_networks": ("conv1d_relu_network", "conv1d_init"),
    "algorithms.critical_points": ("second_derivative_test",),
    "algorithms.descent": ("danskin_directional_derivative", "ddi_direction", "ddi_direction_apg",
                           "pgd_direction"),
    "algorithms.extragradient_plus": ("extragradient_plus", "constrained_extragradient_plus",
                                      "curvature_extragradient_plus"),
    "algorithms.kernel_methods": ("gaussian_kernel", "laplace_kernel", "relu_ntk_kernel",
                                  "kernel_ridge_regression", "kernel_interpolation_high_precision"),
    "algorithms.local_estimators": ("k_nearest_neighbours", "nadaraya_watson", "linear_interpolation",
                                    "random_forest_classifier"),
    "algorithms.minimax": ("gradient_descent_ascent", "alternating_gda", "proximal_point", "extragradient",
                           "optimistic_gda", "reflected_forward_backward", "past_extragradient",
                           "slide_third_formula"),
    "algorithms.mixed_nash": ("entropic_mirror_descent", "projected_gradient_descent_ascent",
                              "mirror_descent_langevin"),
    "algorithms.network_measurements": ("lazy_training_ratio", "input_gradients", "perturbation_stability",
                                        "lipschitz_upper_bound", "lipschitz_lower_bound", "ntk_gram",
                                        "ntk_top_eigenvalue",
                                        "neuron_drift", "activation_flip_fraction", "dataset_separation",
                                        "stability_bound"),
    "algorithms.networks": ("init_lecun", "init_he", "init_ntk", "init_xavier", "init_mean_field",
                            "init_e_et_al", "init_jacot", "relu_network", "full_batch_gradient_descent",
                            "conv_relu_network"),
    "algorithms.random_features": ("random_fourier_features", "random_relu_features", "legendre_features",
                                   "monomial_features", "min_norm_least_squares", "ridge_least_squares",
                                   "gradient_descent_least_squares", "sgd_least_squares"),
    "algorithms.sgd": ("sgd", "gradient_descent", "psgd", "sgld", "polynomial_step", "constant_step",
                       "cooldown_step"),
    "algorithms.small_networks": ("interpolating_relu_network", "two_layer_relu_gradient_descent",
                                  "empirical_ntk", "train_mlp_classifier", "two_layer_network_regression"),
    "algorithms.stochastic_minimax": ("stochastic_extragradient", "stochastic_extragradient_plus",
                                      "bias_corrected_seg_plus", "alternating_seg_plus"),
    "algorithms.wasserstein": ("wasserstein_1", "spectral_norm_estimate"),
    "algorithms.weak_minty": ("weak_minty_rho",),
}
MODULE_OF: dict[str, str] = {name: module for module, names in MODULES.items() for name in names}


@dataclass(frozen=True)
class Registration:
    name: str
    family: str
    reference: Any
    module: str  # the module that registers the name (MODULES)

    @property
    def target(self) -> str:
        """``"module:attr"`` that imports the reference (what ``--impl`` takes for a substitute)."""
        return object_path(self.reference)

    @property
    def contract(self):
        """The family's contract (``algorithms.contracts.Contract``)."""
        from algorithms.contracts import CONTRACTS

        return CONTRACTS[self.family]


_REFERENCE: dict[str, Registration] = {}
_SUBSTITUTE: dict[str, Any] = {}
_RECORDERS: list[list[str]] = []


class UnknownAlgorithm(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


def register(name: str, family: str) -> Callable[[Any], Any]:
    """``register(name, family)(obj)``: register ``obj`` as the reference ``name``."""

    def deco(obj: Any) -> Any:
        from algorithms.contracts import CONTRACTS

        caller = inspect.currentframe().f_back.f_globals.get("__name__")  # the registering module
        if MODULE_OF.get(name) != caller:
            raise ValueError(f"{caller} registers {name!r}, but algorithms.registry.MODULES "
                             f"{'says ' + MODULE_OF[name] + ' does' if name in MODULE_OF else 'does not list it'}: "
                             f"list each name under the module that registers it")
        if name in _REFERENCE and object_path(_REFERENCE[name].reference) != object_path(obj):
            raise ValueError(f"algorithm name {name!r} registered twice "
                             f"({object_path(_REFERENCE[name].reference)} and {object_path(obj)})")
        # (the same path again is its module imported anew, e.g. by a pytest run inside a check)
        if family not in CONTRACTS:
            raise ValueError(f"{name!r}: unknown family {family!r}; known: {sorted(CONTRACTS)}")
        _REFERENCE[name] = Registration(name, family, obj, MODULE_OF[name])
        return obj

    return deco


def registration(name: str) -> Registration:
    """The registration of ``name``; imports the one module that registers it."""
    if name not in _REFERENCE:
        if name not in MODULE_OF:
            raise UnknownAlgorithm(f"no algorithm registered under {name!r}; known names: {', '.join(names())}")
        importlib.import_module(MODULE_OF[name])
        if name not in _REFERENCE:
            raise RuntimeError(f"algorithms.registry.MODULES says {MODULE_OF[name]} registers {name!r}, "
                               f"but importing it did not")
    return _REFERENCE[name]


def get(name: str) -> Any:
    """The implementation under test for ``name``: the user's substitute if one
    is installed, else the reference implementation; its calls are checked against
    the family's contract (``algorithms.contracts.Checked``)."""
    from algorithms.contracts import checked

    reg = registration(name)
    if _RECORDERS:  # the innermost open log (a pytest session run inside a check records its own)
        _RECORDERS[-1].append(name)
    return checked(name, reg.contract, reg.reference, _SUBSTITUTE.get(name, reg.reference))


def reference(name: str) -> Any:
    """The reference implementation, ignoring any substitution."""
    return registration(name).reference


def names(family: str | None = None) -> list[str]:
    """Every registered name (of ``family``; filtering by family imports every module)."""
    if family is None:
        return sorted(MODULE_OF)
    return sorted(n for n in MODULE_OF if registration(n).family == family)


class LookupLog(list):
    """The names :func:`get` returned while the log was the innermost open one (in order, repeats
    kept)."""

    def __init__(self) -> None:
        super().__init__()
        _RECORDERS.append(self)

    def close(self) -> None:
        if any(log is self for log in _RECORDERS):
            _RECORDERS[:] = [log for log in _RECORDERS if log is not self]

    def __enter__(self) -> "LookupLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def record_lookups() -> LookupLog:
    """Start recording lookups; ``with record_lookups() as log: ...`` or ``log.close()``."""
    return LookupLog()


def substitute(name: str, obj: Any, *, time_limit: float | None = None) -> None:
    """Install ``obj`` as the implementation under test for ``name``, behind the
    contract guard (``algorithms.guard``): a misbehaving substitute raises
    ContractError naming the rule it broke."""
    from algorithms.guard import guard

    reg = registration(name)  # unknown names fail here, before any check runs
    _SUBSTITUTE[name] = guard(name, reg.contract, obj, time_limit, reference=reg.reference)


def remove_substitute(name: str) -> None:
    """The reference implementation is under test for ``name`` again."""
    _SUBSTITUTE.pop(name, None)


def clear_substitutes() -> None:
    _SUBSTITUTE.clear()


def substituted_names() -> list[str]:
    return sorted(_SUBSTITUTE)


@contextlib.contextmanager
def substituted(name: str, obj: Any) -> Iterator[None]:
    """Run a block with ``obj`` standing in for ``name`` (used by the planted-bug tests)."""
    previous = _SUBSTITUTE.get(name, None)
    had = name in _SUBSTITUTE
    substitute(name, obj)
    try:
        yield
    finally:
        if had:
            _SUBSTITUTE[name] = previous
        else:
            _SUBSTITUTE.pop(name, None)


def load_object(spec: str) -> Any:
    """Import ``"package.module:attr"`` (attr may be dotted)."""
    if ":" not in spec:
        raise ValueError(f"{spec!r}: expected 'module:attribute', e.g. 'mypkg.solvers:my_eg'")
    module_name, attr = spec.split(":", 1)
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def object_path(obj: Any) -> str:
    """``"module:qualname"`` of a function or class, or of a module-level instance (found by
    identity among its module's attributes); ``load_object`` of it returns ``obj``."""
    import sys

    module = getattr(obj, "__module__", None) or type(obj).__module__
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(qualname, str) and "<" not in qualname:
        return f"{module}:{qualname}"
    for attr, value in vars(sys.modules.get(module) or importlib.import_module(module)).items():
        if value is obj and not attr.startswith("_"):
            return f"{module}:{attr}"
    raise LookupError(f"{obj!r} is not a module-level attribute of {module}: register module-level objects only")
