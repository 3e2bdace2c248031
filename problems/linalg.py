"""Small linear-algebra helpers shared by problems, oracles and reference implementations
(numpy only; ``algorithms/`` may import them, nothing here imports ``algorithms/``)."""
from __future__ import annotations

import numpy as np

Array = np.ndarray


def spectral_norm(m: Array) -> Array:
    """‖M‖₂ over the last two axes. For 2×2 blocks the closed form
    σ_max² = (‖M‖_F² + √(‖M‖_F⁴ − 4 det²)) / 2 (batched 2×2 SVDs are slow); SVD otherwise."""
    if m.shape[-2:] != (2, 2):
        return np.linalg.norm(m, 2, axis=(-2, -1))
    fro2 = np.sum(m * m, axis=(-2, -1))
    det = m[..., 0, 0] * m[..., 1, 1] - m[..., 0, 1] * m[..., 1, 0]
    return np.sqrt((fro2 + np.sqrt(np.maximum(fro2**2 - 4 * det**2, 0.0))) / 2)
