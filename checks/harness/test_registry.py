"""Harness self-tests of the registry and the family contracts: the name -> module table, lookups
that import one module, references reachable as module:attr, contracts that name the argument a
substitute lacks or a check passes outside them, and problems/ not importing algorithms/."""
from __future__ import annotations

import inspect
import json
import pkgutil
import subprocess
import sys

import numpy as np
import pytest

import algorithms
from algorithms import registry
from algorithms.contracts import CONTRACTS, ContractViolation, PerName
from algorithms.guard import ContractError
from reports.catalogue import ROOT


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_table_lists_every_registration_and_only_those():
    modules = {f"algorithms.{m.name}" for m in pkgutil.iter_modules(algorithms.__path__)}
    assert set(registry.MODULES) <= modules, set(registry.MODULES) - modules
    for module in sorted(modules):  # a name registered outside the table raises at import
        __import__(module)
    assert set(registry._REFERENCE) == set(registry.MODULE_OF)  # noqa: SLF001 - the registry's own test
    for name in registry.names():
        assert registry.registration(name).module == registry.MODULE_OF[name]


def test_a_lookup_imports_only_the_module_that_registers_the_name():
    out = _python("import sys, json\nfrom algorithms import registry\nregistry.get('second_derivative_test')\n"
                  "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('algorithms', 'torch')))))")
    assert set(json.loads(out)) == {"algorithms", "algorithms.registry", "algorithms.contracts",
                                    "algorithms.critical_points"}


def test_every_reference_is_reachable_as_module_attr():
    for name in registry.names():
        reg = registry.registration(name)
        assert registry.load_object(reg.target) is reg.reference, (name, reg.target)
    assert registry.registration("init_he").target == "algorithms.networks:init_he"


@pytest.mark.slow  # a fresh interpreter importing every problem module (torch, sympy, scipy): ~7 s
def test_problems_import_nothing_from_algorithms():
    out = _python("import sys, pkgutil, importlib, problems\n"
                  "for m in pkgutil.walk_packages(problems.__path__, 'problems.'):\n"
                  "    importlib.import_module(m.name)\n"
                  "print(sorted(m for m in sys.modules if m == 'algorithms' or m.startswith('algorithms.')))")
    assert out.strip() == "[]", out


def test_each_family_has_one_contract_object():
    for family, contract in CONTRACTS.items():
        assert contract.family == family and contract.text and callable(contract.protocol.__call__)
    for name in registry.names():  # a keyword of a name's contract is one its reference takes
        reg = registry.registration(name)
        own = inspect.signature(reg.reference).parameters
        contract = reg.contract.signature(reg.reference).parameters
        extra = {p for p in contract if contract[p].kind is contract[p].KEYWORD_ONLY} - set(own)
        assert reg.contract.protocol is not PerName or not extra, (name, extra)
        assert extra <= {"z_prev", "restarts", "clip", "projection", "record"}, (name, extra)


def test_a_call_outside_the_contract_names_the_argument():
    reg = registry.registration("polynomial_step")
    reg.contract.check_call("polynomial_step", reg.reference, (np.arange(3),), {"gamma": 1.0, "m": 2.0, "p": 1.0})
    with pytest.raises(ContractViolation, match="'decay'"):
        reg.contract.check_call("polynomial_step", reg.reference, (np.arange(3),), {"gamma": 1.0, "decay": 2.0})
    eg = registry.registration("extragradient")
    with pytest.raises(ContractViolation, match="'damping'"):  # EG has no damping; EG+ has
        eg.contract.check_call("extragradient", eg.reference, (None, None, 0.1, 3), {"damping": 0.5})


def test_a_substitute_is_told_which_contract_argument_it_lacks():
    def rho_without_grid(operator, domain, solution):
        raise AssertionError("not reached: the guard refuses the call first")

    with registry.substituted("weak_minty_rho", rho_without_grid):
        with pytest.raises(ContractError, match=r"R1 raises: weak_minty_rho lacks the keyword argument\(s\) 'grid'"):
            registry.get("weak_minty_rho")(None, None, np.zeros((1, 2)), grid=401)

    def step(k, *, gamma):
        return gamma / (np.asarray(k) + 1.0)

    with registry.substituted("polynomial_step", step):
        assert np.allclose(registry.get("polynomial_step")(np.arange(3), gamma=1.0), [1, 1 / 2, 1 / 3])
        with pytest.raises(ContractError, match="'m', 'p'"):
            registry.get("polynomial_step")(np.arange(3), gamma=1.0, m=2.0, p=0.5)


def test_the_output_check_is_the_familys():
    def short(operator, z0, alpha, num_steps, *, z_prev=None):
        return np.zeros((num_steps, *np.shape(z0)))

    with registry.substituted("extragradient", short):
        with pytest.raises(ContractError, match=r"R3 shape/dtype.*\(num_steps \+ 1, \*z0.shape\) = \(4, 2, 2\)"):
            registry.get("extragradient")(lambda z: z, np.ones((2, 2)), 0.1, 3)
