"""Small networks for the over-parameterisation claims: the Zhang et al.
interpolating construction, a two-layer ReLU net trained by full-batch GD in
numpy (with its empirical NTK), and a torch MLP classifier trainer.

Family ``estimator`` (``algorithms.contracts``). torch is imported lazily, so
the numpy routines cost nothing when the network checks do not run.

Tutorial slides "The mystery in deep learning", "Over-parameterization" table,
"Neural tangent kernel", "From neural networks to random features model".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from algorithms.registry import register
from problems.runtime import threads


# ------------------------------------------------ Zhang et al.'s 2n + d construction
@dataclass(frozen=True, eq=False)
class ProjectedReluNetwork:
    """f(x) = sum_j w_j relu(<a, x> - b_j): d + 2n parameters (a, b, w)."""

    a: np.ndarray  # (d,)
    b: np.ndarray  # (n,)
    w: np.ndarray  # (n,)

    @property
    def num_parameters(self) -> int:
        return self.a.size + self.b.size + self.w.size

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.maximum((np.asarray(x, float) @ self.a)[:, None] - self.b[None, :], 0.0) @ self.w


def interpolating_relu_network(x, y, rng):
    """Zhang, Bengio, Hardt, Recht, Vinyals (ICLR 2017), Thm 1: a two-layer ReLU
    network with 2n + d weights fits any labels on n distinct points in R^d.
    Draw a ~ N(0, I) (z_i = <a, x_i> distinct almost surely), sort z_(1) < ... < z_(n),
    put b_1 < z_(1) and b_j in (z_(j-1), z_(j)); then M_ij = relu(z_(i) - b_j) is lower
    triangular with a positive diagonal, and M w = y is solved by forward substitution.
    Raises ValueError when two projections coincide (the points are not separable
    along a: e.g. equal inputs)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    a = rng.standard_normal(x.shape[1])
    z = x @ a
    order = np.argsort(z)
    zs = z[order]
    gaps = np.diff(zs)
    if np.any(gaps <= 1e-12 * max(1.0, np.abs(zs).max())):
        raise ValueError("two points share the projection <a, x>: the construction needs distinct projections")
    b = np.concatenate([[zs[0] - 1.0], zs[:-1] + gaps / 2])
    m = np.maximum(zs[:, None] - b[None, :], 0.0)
    from scipy.linalg import solve_triangular

    w = solve_triangular(m, y[order], lower=True)
    return ProjectedReluNetwork(a, b, w)


# --------------------------------------------------- two-layer net, numpy, full batch
def two_layer_relu_gradient_descent(x, y, w0, v0, output_scale, lr, num_steps, tol=0.0):
    """f(a) = s * sum_j v_j relu(<w_j, a>), both layers trained by full-batch GD on
    L = 1/2 sum_i (f(a_i) - y_i)^2 (s = 1/sqrt(m): NTK parametrisation; s = 1/m:
    mean field). Stops early once L <= tol. Returns (w, v, losses)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    w, v = np.array(w0, float), np.array(v0, float)
    losses = []
    for _ in range(int(num_steps) + 1):
        pre = x @ w.T  # (n, m)
        act = np.maximum(pre, 0.0)
        r = output_scale * act @ v - y
        losses.append(0.5 * float(r @ r))
        if losses[-1] <= tol or len(losses) > num_steps:
            break
        grad_v = output_scale * act.T @ r
        grad_w = output_scale * ((r[:, None] * (pre > 0)) * v[None, :]).T @ x
        w, v = w - lr * grad_w, v - lr * grad_v
    return w, v, np.array(losses)


def empirical_ntk(x, w, v, output_scale):
    """Theta(a, a') = <grad_theta f(a), grad_theta f(a')> for f = s sum_j v_j relu(<w_j, a>):
    s^2 sum_j [relu(w_j a) relu(w_j a') + v_j^2 1(w_j a > 0) 1(w_j a' > 0) <a, a'>]."""
    x = np.asarray(x, float)
    pre = x @ np.asarray(w, float).T
    act, on = np.maximum(pre, 0.0), (pre > 0).astype(float)
    return output_scale**2 * (act @ act.T + ((on * np.asarray(v) ** 2) @ on.T) * (x @ x.T))


# -------------------------------------------------------------- torch MLP trainer
def train_mlp_classifier(x, y, x_test, widths, *, epochs, lr=1e-3, batch_size=128, seed=0, device="cpu",
                         stop_at_interpolation=True, bias=True, optimizer="adam", weight_decay=0.0,
                         record_test_every=0):
    """An MLP p -> widths... -> classes with ReLU, cross-entropy, trained with Adam
    (or SGD with momentum 0.9) in float32 on ``device``; one epoch = one pass in
    shuffled minibatches. Stops at 100% train accuracy if asked; with
    ``record_test_every = k`` the test predictions (argmax) are kept every k epochs.

    Returns a dict: train accuracy per epoch, the epoch of first 100% train accuracy
    (None if never), the test logits, the final and the initial weight matrices
    (numpy, shape (out, in)) and the final train loss."""
    import torch

    with threads(min(2, torch.get_num_threads())):  # at most two: the batches are small
        gen = torch.Generator().manual_seed(int(seed) % 2**63)
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)
        yt = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
        xe = torch.as_tensor(np.asarray(x_test), dtype=torch.float32, device=device)
        classes = int(max(np.max(y), 0)) + 1
        dims = [xt.shape[1], *widths, max(classes, 10)]
        layers = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            lin = torch.nn.Linear(a, b, bias=bias)
            with torch.no_grad():  # PyTorch's default (Kaiming-uniform) init, drawn from our generator
                bound = 1.0 / np.sqrt(a)
                lin.weight.copy_(torch.rand((b, a), generator=gen) * 2 * bound - bound)
                if bias:
                    lin.bias.copy_(torch.rand(b, generator=gen) * 2 * bound - bound)
            layers += [lin, torch.nn.ReLU()] if i < len(dims) - 2 else [lin]
        model = torch.nn.Sequential(*layers).to(device)
        init = [l.weight.detach().cpu().numpy().copy() for l in model if isinstance(l, torch.nn.Linear)]
        opt = (torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay) if optimizer == "adam" else
               torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay))
        loss_fn = torch.nn.CrossEntropyLoss()
        history, first = {"train_acc": [], "test_predictions": []}, None
        n = xt.shape[0]
        for epoch in range(1, int(epochs) + 1):
            model.train()
            perm = torch.randperm(n, generator=gen).to(device)
            for s in range(0, n, batch_size):
                idx = perm[s:s + batch_size]
                opt.zero_grad()
                loss_fn(model(xt[idx]), yt[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                train_acc = float((model(xt).argmax(1) == yt).float().mean())
                history["train_acc"].append(train_acc)
                if record_test_every and epoch % record_test_every == 0:
                    history["test_predictions"].append(model(xe).argmax(1).cpu().numpy())
            if train_acc == 1.0 and first is None:
                first = epoch
                if stop_at_interpolation:
                    break
        with torch.no_grad():
            logits_test = model(xe).cpu().numpy()
            train_loss = float(loss_fn(model(xt), yt))
        weights = [l.weight.detach().cpu().numpy().astype(float) for l in model if isinstance(l, torch.nn.Linear)]
        return {"history": history, "epochs_to_interpolate": first, "test_logits": logits_test,
                "train_accuracy": history["train_acc"][-1], "train_loss": train_loss,
                "weights": weights, "initial_weights": [w.astype(float) for w in init]}


def two_layer_network_regression(x_train, targets, x_test, width, *, steps=3000, lr=1e-2, networks=4, seed=0,
                                 device="cpu"):
    """Belkin et al.'s shallow networks (PNAS 2019): f(x) = W_2 relu(W_1 x + b_1) + b_2 with
    ``width`` hidden units, trained on the squared loss (1/n) sum_i ||f(x_i) - y_i||^2
    (targets (n, K), e.g. one-hot) by full-batch Adam (``lr``, ``steps`` steps) from
    W_1 ~ N(0, 2/d), W_2 ~ N(0, 1/width), zero biases; ``networks`` independent
    initialisations trained at once (float32). Returns (train predictions, test
    predictions), float64 arrays (networks, n, K) and (networks, n_test, K)."""
    import torch

    x = torch.as_tensor(np.asarray(x_train, float), dtype=torch.float32, device=device)
    xt = torch.as_tensor(np.asarray(x_test, float), dtype=torch.float32, device=device)
    y = torch.as_tensor(np.asarray(targets, float), dtype=torch.float32, device=device)
    d, k, h, b = x.shape[1], y.shape[1], int(width), int(networks)
    g = torch.Generator().manual_seed(int(seed) % 2**63)
    w1 = (torch.randn((b, h, d), generator=g) * (2.0 / d) ** 0.5).to(device).requires_grad_(True)
    w2 = (torch.randn((b, k, h), generator=g) * (1.0 / h) ** 0.5).to(device).requires_grad_(True)
    b1 = torch.zeros((b, 1, h), device=device, requires_grad=True)
    b2 = torch.zeros((b, 1, k), device=device, requires_grad=True)
    params = [w1, b1, w2, b2]

    def forward(inputs):
        return torch.relu(inputs @ w1.transpose(1, 2) + b1) @ w2.transpose(1, 2) + b2

    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(int(steps)):
        opt.zero_grad()
        ((forward(x) - y) ** 2).sum(-1).mean(-1).sum().backward()  # the networks are independent
        opt.step()
    with torch.no_grad():
        return forward(x).double().cpu().numpy(), forward(xt).double().cpu().numpy()


# Registered by a call, not a decorator, so that mutation testing reaches the bodies (CONTRIBUTING).
register("interpolating_relu_network", family="estimator")(interpolating_relu_network)
register("two_layer_relu_gradient_descent", family="estimator")(two_layer_relu_gradient_descent)
register("empirical_ntk", family="measurement")(empirical_ntk)
register("train_mlp_classifier", family="estimator")(train_mlp_classifier)
register("two_layer_network_regression", family="estimator")(two_layer_network_regression)
