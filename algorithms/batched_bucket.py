"""One bucket of ``algorithms.batched_training``: networks of equal depth and minibatch
size, padded to the bucket's widest layers and trained as one computation (the update rules
and the padding argument are in that module's docstring). Nothing here is registered: the
engine (``train_mlp_population``) builds the buckets; subclasses of ``BucketTrainer`` are how
the planted bugs of checks/quality/ are built."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

INITS = ("he_uniform", "torch_default")
_relu_backward = torch.ops.aten.threshold_backward  # (g, h, 0) -> g ⊙ 1[h > 0], one kernel


# ------------------------------------------------------------------ initialisation
def initial_parameters(dims: Sequence[int], seed: int, init: str, bias: bool):
    """The draws of one network from ``torch.Generator().manual_seed(seed)`` (CPU, float64),
    layer by layer, weight before bias: "he_uniform" = nn.init.kaiming_uniform_ (bound
    √(6/fan_in)) with zero biases, as in the MNIST-1D double-descent notebook;
    "torch_default" = nn.Linear's reset (bound 1/√fan_in for weights and biases).
    Returns (generator, weights, biases); the generator then serves the permutations."""
    if init not in INITS:
        raise ValueError(f"init {init!r}: expected one of {INITS}")
    gen = torch.Generator().manual_seed(int(seed) % 2**63)
    weights, biases = [], []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        bound = np.sqrt(6.0 / fan_in) if init == "he_uniform" else 1.0 / np.sqrt(fan_in)
        weights.append((torch.rand((fan_out, fan_in), generator=gen, dtype=torch.float64) * 2 - 1) * bound)
        if bias and init == "torch_default":
            biases.append((torch.rand(fan_out, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
        else:
            biases.append(torch.zeros(fan_out, dtype=torch.float64))
    return gen, weights, biases


# -------------------------------------------------------------------- one bucket
class BucketTrainer:
    """The networks of one bucket; ``train`` runs their epochs. All parameters live in one
    flat tensor θ, layer-major: per layer its weights W_l (M_b, out, in) and biases c_l
    (M_b, out), each block contiguous, so that every product of a step is one ``bmm`` reading
    or writing a block in place, and the optimiser's update is a few operations on θ
    whatever the depth (the per-network learning rate expanded to one entry per parameter).
    The gradient is written out by hand (backpropagation through the ReLU MLP into a
    preallocated buffer): no autograd graph per step.
    Subclasses of this class are how the planted bugs of checks/quality/ are built."""

    def __init__(self, dims, specs, init, bias, device, dtype):
        self.specs, self.device, self.dtype, self.bias = specs, torch.device(device), dtype, bias
        self.num_layers = len(dims[0]) - 1
        top = [int(t) for t in np.max(np.asarray(dims), axis=0)]
        self.shapes = [(top[l + 1], top[l]) for l in range(self.num_layers)]
        M = len(specs)
        self.offsets, at = [], 0  # (start of W_l, start of c_l, end) in θ
        for o, i in self.shapes:
            self.offsets.append((at, at + M * o * i, at + M * o * i + M * o))
            at += M * (o * i + o)
        theta, mask, owner = np.zeros(at), np.zeros(at), np.zeros(at, dtype=np.int64)  # owner: network of an entry
        self.gens, self.init_w, self.init_b = [], [], []
        blocks = self._blocks(theta), self._blocks(mask), self._blocks(owner)
        for m, (d, s) in enumerate(zip(dims, specs)):
            gen, ws, bs = initial_parameters(d, s.seed, init, bias)
            self.gens.append(gen)
            self.init_w.append([w.numpy() for w in ws])
            self.init_b.append([b.numpy() for b in bs])
            for l, (w, b) in enumerate(zip(self.init_w[-1], self.init_b[-1])):
                (Wt, ct), (Wm, cm), (Wo, co) = [(W[l], c[l]) for W, c in blocks]
                Wt[m, :w.shape[0], :w.shape[1]], ct[m, :b.shape[0]] = w, b
                Wm[m, :w.shape[0], :w.shape[1]], cm[m, :b.shape[0]] = 1.0, 1.0 if bias else 0.0
                Wo[m], co[m] = m, m
        self.dims = [list(d) for d in dims]
        to = dict(device=self.device, dtype=dtype)
        self.theta, self.mask = torch.from_numpy(theta).to(**to), torch.from_numpy(mask).to(**to)
        self.owner = torch.from_numpy(owner).to(self.device)
        self.padded = bool((self.mask == 0).any())
        self.grad = torch.zeros_like(self.theta)
        self.weights, self.biases = self._blocks(self.theta)
        self.bias_columns = [c.unsqueeze(2) for c in self.biases]  # views, (M, out, 1)
        self.weights_t = [W.transpose(1, 2) for W in self.weights]
        self.grad_weights, self.grad_biases = self._blocks(self.grad)
        self.lr = self.per_entry([s.lr for s in specs])
        self.wd = self.per_entry([s.weight_decay for s in specs])
        self.decay = any(s.weight_decay != 0 for s in specs)
        rates = {(s.lr, s.weight_decay) for s in specs}  # one (η, λ) for the bucket: the fused Adam kernel applies
        self.shared_rates = rates.pop() if len(rates) == 1 and hasattr(torch, "_fused_adam_") else None
        self.step_count = torch.zeros((), dtype=torch.float32, device=self.device)
        self.minus_one: dict[int, torch.Tensor] = {}  # the −1 of the one-hot, per minibatch size
        self.set_active(np.ones(M, dtype=bool))
        self.steps = np.zeros(M, dtype=int)

    def _blocks(self, flat):
        """Views ([W_l (M, out, in)], [c_l (M, out)]) into a tensor laid out like θ."""
        M = len(self.specs)
        return ([flat[w0:b0].reshape(M, o, i) for (w0, b0, _), (o, i) in zip(self.offsets, self.shapes)],
                [flat[b0:e].reshape(M, o) for (_, b0, e), (o, _) in zip(self.offsets, self.shapes)])

    def by_network(self, flat):
        """Views (M, entries of the block) per block of a tensor laid out like θ."""
        M = len(self.specs)
        return [t.reshape(M, -1) for pair in zip(*self._blocks(flat)) for t in pair]

    def per_entry(self, values) -> torch.Tensor:
        """A per-network value (M,) expanded to every entry of θ."""
        return torch.as_tensor(np.asarray(values, float), device=self.device, dtype=self.dtype)[self.owner]

    def set_active(self, active: np.ndarray) -> None:
        """Which networks still update (host-side flags, so that a step never waits on the device)."""
        self.active_host = np.asarray(active, dtype=bool).copy()
        self.all_active = bool(self.active_host.all())
        self.active = self.per_entry(self.active_host)

    def layers(self):
        """(W_l (M, out, in), c_l (M, out)) per layer, views into θ."""
        return list(zip(self.weights, self.biases))

    def forward(self, xb: torch.Tensor, keep: list | None = None) -> torch.Tensor:
        """xb (M, b, p) -> logits (M, b, C), computed feature-major: every activation is
        (M, features, b) in memory, so each product is (out, in) @ (in, b), wide in b (faster
        for narrow layers than (b, in) @ (in, out)), and the logits are (M, C, b) in memory
        (returned as a view), so reductions over the C = 10 classes run along rows of b
        samples, an order of magnitude faster on the CPU than along an innermost axis of 10.
        ``keep`` collects the input of every layer, feature-major (M, in, b)."""
        h = xb.transpose(1, 2)
        for l, (W, c) in enumerate(zip(self.weights, self.bias_columns)):
            if keep is not None:
                keep.append(h)
            h = torch.baddbmm(c, W, h)
            if l < self.num_layers - 1:
                h = h.relu_()
        return h.transpose(1, 2)

    def logits_shared(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs x (n, p) seen by every network -> logits transposed (M, C, n), feature-major
        throughout: the first layers of all networks as one product (M·out, p) @ (p, n), then
        per layer one ``baddbmm`` whose products are (out, in) @ (in, n), wide in n."""
        M = len(self.specs)
        W, c = self.weights[0], self.biases[0]
        h = torch.addmm(c.reshape(-1, 1), W.reshape(-1, W.shape[2]), x.T).view(M, W.shape[1], -1)
        for W, c in zip(self.weights[1:], self.bias_columns[1:]):
            h = torch.baddbmm(c, W, h.relu_())
        return h

    def loss_gradient(self, logits: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """∂L/∂logits for L = Σ_m (1/b) Σ_i CE(logits[m, i], y[m, i]): (softmax − one-hot)/b."""
        p = torch.softmax(logits.transpose(1, 2), 1)  # (M, C, b)
        minus_one = self.minus_one.get(yb.shape[1])
        if minus_one is None:
            minus_one = self.minus_one[yb.shape[1]] = torch.full((yb.shape[0], 1, yb.shape[1]), -1.0, dtype=p.dtype,
                                                                 device=p.device)
        p.scatter_add_(1, yb.unsqueeze(1), minus_one)
        return p.div_(logits.shape[1]).transpose(1, 2)

    def gradient(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """∂L/∂θ by backpropagation, written into the flat buffer ``grad`` (laid out like θ):
        with δ_L = ∂L/∂logits and h_{l−1} the input of layer l,
        ∂L/∂W_l = δ_lᵀ h_{l−1},  ∂L/∂c_l = Σ_i δ_l,  δ_{l−1} = (δ_l W_l) ⊙ 1[h_{l−1} > 0],
        all feature-major (δ_lᵀ and h_{l−1}ᵀ of shape (M, features, b))."""
        inputs: list = []
        delta = self.loss_gradient(self.forward(xb, inputs), yb).transpose(1, 2)
        for l in range(self.num_layers - 1, -1, -1):
            torch.bmm(delta, inputs[l].transpose(1, 2), out=self.grad_weights[l])
            if self.bias:  # without biases their gradient stays 0 (and so do they)
                torch.sum(delta, 2, out=self.grad_biases[l])
            if l:
                delta = _relu_backward(torch.bmm(self.weights_t[l], delta), inputs[l], 0.0)
        return self.grad

    def init_state(self, optimizer):
        self.optimizer = optimizer
        self.state = [torch.zeros_like(self.theta), torch.zeros_like(self.theta)]

    def project(self) -> None:
        """θ ← θ ⊙ Mask: padded entries (and biases when there are none) stay exactly zero.
        Their updates are zero anyway (a padded unit has zero weights in and out, so its
        input is 0, 1[0 > 0] = 0 and h = 0 zero its gradients, and Adam moves a parameter
        whose gradients were all 0 by 0); the projection makes it an invariant."""
        if self.padded:
            self.theta.mul_(self.mask)

    def update(self, g: torch.Tensor, hyper) -> None:
        """One step of every active network (the rules of the module docstring)."""
        self.steps += self.active_host
        b1, b2 = hyper["betas"]
        p, (s0, s1) = self.theta, self.state
        if self.all_active and self.optimizer == "adam" and self.shared_rates is not None:
            # the same rule as one kernel pass over θ (torch.optim.Adam(fused=True)'s kernel; t read from step_count)
            lr, wd = self.shared_rates
            self.step_count.fill_(float(self.steps[0]))
            torch._fused_adam_([p], [g], [s0], [s1], [], [self.step_count], lr=lr, beta1=b1, beta2=b2,
                               weight_decay=wd, eps=hyper["eps"], amsgrad=False, maximize=False)
            self.project()
            return
        if self.decay:
            g = g.addcmul_(self.wd, p)
        if self.all_active:  # one step count t for the whole bucket: scalar bias corrections
            t = float(self.steps[0])
            if self.optimizer == "adam":
                s0.lerp_(g, 1 - b1)  # m ← β₁ m + (1 − β₁) g
                s1.mul_(b2).addcmul_(g, g, value=1 - b2)
                denom = s1.sqrt().div_((1 - b2 ** t) ** 0.5).add_(hyper["eps"])
                p.addcmul_(self.lr, s0.div(denom), value=-1 / (1 - b1 ** t))
            else:  # b_0 = 0, so b_1 = g as in torch.optim.SGD
                s0.mul_(hyper["momentum"]).add_(g)
                p.addcmul_(self.lr, s0, value=-1)
        else:
            a = self.active
            t = self.per_entry(np.maximum(self.steps, 1))
            if self.optimizer == "adam":
                s0.add_(a * (1 - b1) * (g - s0))
                s1.add_(a * (1 - b2) * (g * g - s1))
                step = (s0 / (1 - b1 ** t)) / ((s1 / (1 - b2 ** t)).sqrt() + hyper["eps"])
            else:
                s0.add_(a * ((hyper["momentum"] - 1) * s0 + g))
                step = s0
            p.sub_(a * self.lr * step)
        self.project()

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, chunk_elems: int = 2**18):
        """Error and mean CE of every network on (x (n, p), y (M, n)), in chunks of samples."""
        M, n = y.shape
        width = max(max(d) for d in self.dims)
        step = max(1, chunk_elems // (M * width))
        wrong = torch.zeros(M, dtype=torch.float64, device=self.device)
        total = torch.zeros_like(wrong)
        for s in range(0, n, step):
            logits = self.logits_shared(x[s:s + step])  # (M, C, b)
            ys = y[:, s:s + step].unsqueeze(1)
            top, mine = logits.amax(1, keepdim=True), logits.gather(1, ys)
            if bool((logits == top).sum() == ys.numel()):  # every maximum unique (no ties, no NaN):
                wrong += (mine != top).sum((1, 2), dtype=torch.float64)  # argmax = y iff logit_y is the max
            else:  # argmax's rule (the first maximal class) decides
                wrong += (logits.max(1).indices != ys.squeeze(1)).sum(1, dtype=torch.float64)
            total += (torch.logsumexp(logits, 1) - mine.squeeze(1)).sum(1, dtype=torch.float64)
        return (wrong / n).cpu().numpy(), (total / n).cpu().numpy()

    @torch.no_grad()
    def train(self, x, Y, evals, epochs, record_at, stop_loss, optimizer, hyper):
        self.init_state(optimizer)
        n, M = x.shape[0], len(self.specs)
        batch = self.specs[0].batch_size
        errors = {k: [] for k in ["train", *evals]}
        losses = {k: [] for k in errors}
        stopped_at = np.full(M, -1)

        def record(epoch):
            for name, (xe, ye) in [("train", (x, Y)), *evals.items()]:
                e, l = self.evaluate(xe, ye)
                errors[name].append(e)
                losses[name].append(l)
            if stop_loss is not None:
                newly = (losses["train"][-1] <= stop_loss) & (stopped_at < 0)
                stopped_at[newly] = epoch
                self.set_active(stopped_at < 0)

        if 0 in record_at:
            record(0)
        for epoch in range(1, epochs + 1):
            if not self.active_host.any():
                if epoch in record_at:
                    record(epoch)
                continue
            perms = torch.stack([torch.randperm(n, generator=g) for g in self.gens]).to(self.device)
            xs = x.index_select(0, perms.reshape(-1)).view(M, n, -1)  # this epoch's order, one gather
            ys = torch.gather(Y, 1, perms)
            for s in range(0, n, batch):
                self.update(self.gradient(xs[:, s:s + batch], ys[:, s:s + batch]), hyper)
            if epoch in record_at:
                record(epoch)
        return errors, losses, stopped_at

    def unpadded(self):
        """Per network [W_l (out, in)] and [c_l (out,)], float64, without the padding."""
        layers = [(W.double().cpu().numpy(), c.double().cpu().numpy()) for W, c in self.layers()]
        ws = [[layers[l][0][m, :d[l + 1], :d[l]].copy() for l in range(self.num_layers)] for m, d in enumerate(self.dims)]
        cs = [[layers[l][1][m, :d[l + 1]].copy() for l in range(self.num_layers)] for m, d in enumerate(self.dims)]
        return ws, cs
