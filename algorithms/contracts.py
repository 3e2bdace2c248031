"""One contract per algorithm family: what a registered callable takes and returns.

A user's substitute (``--impl NAME=module:attr``) must honour the contract of
the family of NAME. The text below is what the README and the error messages
quote.
"""
from __future__ import annotations

FAMILIES: dict[str, str] = {
    "minimax": """\
Deterministic first-order methods for the operator V(z) = (grad_x Phi, -grad_y Phi).

    method(operator, z0, alpha, num_steps, *, z_prev=None) -> trajectory

operator   callable, operator(z) -> V(z) for z of shape (B, d) (a batch of B
           points, float64); also operator.resolvent(z, alpha) = (I + alpha V)^-1 z
           and operator.jacobian(z) of shape (B, d, d).
z0         array (B, d), float64; must not be modified.
alpha      step size, a float or an array (B,) (one step per batch row).
num_steps  K >= 0.
z_prev     two-step methods only: the point z_{-1} (default z0).
returns    array (K + 1, B, d): z_0 (= z0), z_1, ..., z_K, finite unless the
           method itself diverges.
Methods with more parameters take them keyword-only, with defaults: EG+ / CEG+
(algorithms.extragradient_plus) damping=0.5 (the second step is damping * alpha),
prox=None (prox(z, alpha) = (I + alpha A)^-1 z, e.g. a projection); CurvatureEG+
nu=0.99, tau=0.5, prox=None, and reads alpha as a cap on its adaptive step.""",
    "stochastic_minimax": """\
Stochastic extragradient methods for V(z, zeta) = V(z) + U(z, zeta) (slide 39 notation).

    method(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None)
        -> array (R, B, d): z_k at the recorded steps k

oracle      oracle.sample(rng, B) draws one sample zeta per row; oracle(z, zeta) -> V(z, zeta)
            for z (B, d) (the same zeta may be evaluated at several points); oracle.dim_x.
z0          array (B, d), float64 (B independent repetitions/starts); must not be modified.
gamma       the fixed scale of both steps (extrapolation beta_k gamma or gamma, update alpha_k gamma).
schedule    callable k -> (alpha_k, beta_k) for k = 0, 1, ... (methods without beta ignore it).
num_steps   K >= 0.   rng: numpy Generator, the only source of randomness.
projection  None, or a callable P(z) (projection / resolvent of the constraint or regulariser).
record      the steps k in [0, K] to return (default: all, giving (K + 1, B, d)).""",
    "optimizer": """\
First-order optimisers in the torch.optim style (a class, e.g. torch.optim.Adam).

    opt = optimizer([x], lr=alpha, **hyper)
    for k in range(K):
        opt.param_groups[g]["lr"] = alpha_k      # only where the check runs a schedule
        opt.zero_grad(); x.grad = g_k; opt.step()

x      one float64 tensor (B, d), requires_grad: row b is problem (or seed) b;
       the check writes the (stochastic) gradient at the current x into x.grad,
       reads x after step(), and may project x in place (clip to a box). The
       network checks pass a model's parameter list instead.
hyper  torch's names where torch has them (betas, eps); others as the reference's
       docstring says: generator= (a torch.Generator) for methods drawing their
       own noise (psgd, sgld), radius= for AcceleGrad/UniXGrad's ball, b0= for
       adagrad_norm. Norm-based methods take norms per row.
opt.solution()  optional: methods whose reported point differs from the query
       point (AGD, AcceleGrad, UniXGrad) leave the next query point in x and
       return [reported point] here; default: x itself.
Coordinatewise methods are batch-independent, so torch.optim's own classes work:
--impl adam=torch.optim:Adam, sgd=torch.optim:SGD, adagrad=torch.optim:Adagrad.""",
    "descent_direction": """\
    direction(gradients) -> d

gradients  array (B, K, n) float64: for each of B problems, the K gradients
           g_k = grad_x Phi(x, delta_k) at K maximisers (attacks) of a max-type
           function f = max_delta Phi; rows may repeat. Not modified.
returns    d of shape (B, n), not normalised (ddi_direction: d = -argmin{||g||:
           g in conv{g_k}}; pgd_direction: d = -g_1).
Also in this family: danskin_directional_derivative(gradients, directions) -> (B,),
the Danskin formula max_k <gamma_b, g_bk> for directions gamma of shape (B, n).""",
    "attack": """\
    attack(loss_fn, x, eps, steps, step_size, rng, *, restarts=1, clip=None) -> x_adv

loss_fn  torch (B, ...) -> per-example losses (B,), to be maximised.
x        torch tensor (B, ...), not modified; eps >= 0 is the radius of each
         example's ball (over all non-batch dims); steps, step_size >= 0.
rng      a CPU torch.Generator (or an int seed); restart 0 draws first, so with
         the same rng state R restarts never do worse than 1.
clip     (lo, hi): the box x_adv must stay in (x must lie in it), or None.
returns  x_adv like x: per example the best point found (x itself included):
         ||x_adv - x|| <= eps, lo <= x_adv <= hi, loss_fn(x_adv) >= loss_fn(x);
         eps = 0 or steps = 0 returns x. Extra keywords are optional.""",
    "critical_point_test": """\
The second-derivative test at a critical point.

    test(hessian_eigenvalues, tol) -> label

hessian_eigenvalues  array (B, n) of real eigenvalues of the Hessian at B
                     critical points; tol: |lambda| <= tol counts as zero.
returns              array (B,) of labels among
                     'min', 'max', 'saddle', 'inconclusive'.""",
    "mixed_nash": """\
Mixed equilibria of min_p max_q E Phi (the row / x player minimises).

    md(payoff, num_steps, eta, *, record=None) -> (pbar, qbar)
        payoff (B, m, n) or (m, n); eta a float or (eta_p, eta_q); returns the averaged
        strategies at the recorded T >= 1, arrays (R, B, m) and (R, B, n).
    particles(payoff, x0, y0, num_steps, eta, inner_steps, step, rng, *, record=None) -> (X, Y)
        payoff separable (problems.stochastic_minimax.mixed_games.SeparablePayoff); x0 (K, dx), y0 (K, dy);
        returns the particle sets at the recorded t, (R, K, dx) and (R, K, dy).
    pure(operator, z0, alpha, num_steps, *, low, high, record=None) -> (R, B, d)
        the projected pure-strategy baseline; operator(z) -> V(z) for z (B, d).""",
    "schedule": """\
    schedule(k) -> step size alpha_k  (k = 0, 1, 2, ...), vectorised over k.""",
    "measurement": """\
Measurements on models (e.g. lazy-training ratio, Lipschitz bounds, Rademacher
complexity); see the module docstrings.""",
    "estimator": """\
Regression / classification estimators, float64 numpy, batched over leading axes
(algorithms.random_features, kernel_methods, local_estimators, small_networks):

    fit(F, Y, ...) -> theta          F (*batch, n, N), Y (*batch, n) or (*batch, n, k);
                                     theta (*batch, N[, k]); e.g. min_norm_least_squares(F, Y)
    make(dim, N, bandwidth, rng, batch=()) -> phi; phi(X (n, p)) -> (*batch, n, N)
                                     (random_fourier_features, random_relu_features)
    kernel(X, Z[, bandwidth]) -> (n, m);  kernel_ridge_regression(K, Y, ridge) -> alpha
    rule(x_train, y_train, x_test, ...) -> predictions (k_nearest_neighbours, ...)
    gradient_descent_least_squares(F, Y, step, K) -> (theta_K, ||r_k||^2 for k = 0..K)
    sgd_least_squares(F, y, step, epochs, rng, theta0=None, average=False) -> theta
Inputs are never modified; see each module's docstrings for the exact formulas.""",
    "network": """\
Networks, initialisation schemes and training (torch, float64, batched over B networks;
see algorithms.networks).

    relu_network(weights, alpha, inputs, *, output_relu=False) -> (B, n)
        weights [X_1 (B, m, p), X_l (B, m, m), ..., X_L (B, 1, m)], alpha (B,),
        inputs (n, p) or (B, n, p); h = (1/alpha) sigma(X_L ... sigma(X_1 a)), no biases,
        the output ReLU only when asked.
    init_<scheme>(p, m, depth, *, batch=1, seed=0, device="cpu", dtype=float64)
        -> InitDraw(weights, alpha); also init_<scheme>.variances(p, m) ->
        (beta_1^2, beta^2, beta_L^2, alpha), plain arithmetic (works on sympy symbols).
    full_batch_gradient_descent(weights, alpha, inputs, targets, lr, num_steps, *,
        stop_loss=None, trainable=None, forward=None, monitor=None, record_every=1,
        keep_snapshots=True) -> {"weights", "loss" (T, B), "steps", "snapshots",
        "monitor", "stopped_at"}; GD on 1/2 ||h - y||^2, lr scalar or (B,).
    conv_relu_network(weights, alpha, inputs) -> (B, n): the bias-free CNN analogue.
    conv1d_relu_network(weights, alpha, inputs) -> (B, n): bias-free 1-D CNN, weights
        [K_1 (B, c, 1, 3), K_l (B, c, c, 3), ..., X_L (B, 1, c*T)], inputs (n, T) or (B, n, T);
        conv1d_init(T, c, depth, *, batch, seed, device, dtype, gain) -> InitDraw.""",
    "batched_training": """\
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
           weight decay) to floating-point tolerance, whatever networks share the run.""",
}
