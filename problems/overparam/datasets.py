"""Offline datasets for the over-parameterisation checks.

* ``digits()``: scikit-learn's bundled 8x8 digits (1797 x 64, pixel values
  0..16, divided by 16 to lie in [0, 1]); ships with scikit-learn, no download.
* ``mnist1d(...)``: Greydanus's MNIST-1D (Greydanus, "Scaling down deep
  learning", 2020), *generated locally* with ``mnist1d.data.make_dataset``;
  never its ``get_dataset(download=True)`` path, which fetches a pickle from
  GitHub. ``make_dataset`` reseeds Python's ``random`` and numpy's global RNG;
  both states are saved and restored around the call. The result is cached
  as ``.npz`` under ``$GBU_CACHE_DIR`` (default: the system temp folder),
  keyed by the generation arguments. The package is optional
  (``pip install mnist1d``); when it is absent ``DatasetUnavailable`` says so.
* ``mnist(data_dir)`` / ``cifar10(data_dir)``: the real datasets for users who
  have them, in their usual on-disk formats, found under ``data_dir`` or
  ``$GBU_DATA_DIR``:

  - MNIST: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (optionally ``.gz``),
    directly in the folder or in ``MNIST/raw/`` (torchvision's layout);
  - CIFAR-10: the python pickles ``cifar-10-batches-py/data_batch_{1..5}`` and
    ``test_batch``.

  Nothing is ever downloaded; a missing folder raises ``DatasetUnavailable``.

Checks turn ``DatasetUnavailable`` into a clean skip with the reason.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import pickle
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR_VARIABLE = "GBU_DATA_DIR"
CACHE_DIR_VARIABLE = "GBU_CACHE_DIR"


class DatasetUnavailable(RuntimeError):
    """The dataset is not available offline; the message says how to provide it."""


@dataclass(frozen=True, eq=False)
class Split:
    """Features (n, p) float64 and integer labels (n,), train and test."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(max(self.y.max(), self.y_test.max())) + 1


# ------------------------------------------------------------------ digits
@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=float) / 16.0
    y = np.asarray(bunch.target, dtype=int)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits: x in [0, 1]^64 (read-only, cached), labels 0..9."""
    return _digits_arrays()


def digits_split(num_train: int, *, classes: tuple[int, ...] | None = None, seed: int = 0) -> Split:
    """A random train/test split of the digits (restricted to ``classes`` if given;
    labels are then re-indexed 0..len(classes)-1 in the order given)."""
    x, y = digits()
    if classes is not None:
        keep = np.isin(y, classes)
        lookup = np.full(10, -1)
        lookup[list(classes)] = np.arange(len(classes))  # class classes[i] -> label i
        x, y = x[keep], lookup[y[keep]]
    if not 0 < num_train < len(y):
        raise ValueError(f"num_train={num_train} must lie in (0, {len(y)}) for these classes")
    perm = np.random.default_rng(seed).permutation(len(y))
    tr, te = perm[:num_train], perm[num_train:]
    return Split(x[tr], y[tr], x[te], y[te])


# ----------------------------------------------------------------- mnist1d
def _cache_dir() -> Path:
    d = Path(os.environ.get(CACHE_DIR_VARIABLE) or Path(tempfile.gettempdir()) / "gbu-claims-cache")
    d.mkdir(parents=True, exist_ok=True)
    return d


def mnist1d(num_samples: int = 5000, train_split: float = 0.8, seed: int = 42) -> Split:
    """MNIST-1D generated locally with ``make_dataset(get_dataset_args())`` and the
    given overrides (40 features, 10 balanced classes, globally standardised).

    The global ``random`` / ``numpy.random`` states are restored afterwards, so
    generating the data does not reseed anything else in the process."""
    key = {"num_samples": int(num_samples), "train_split": float(train_split), "seed": int(seed), "v": 1}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = _cache_dir() / f"mnist1d-{digest}.npz"
    if path.is_file():
        with np.load(path) as z:
            return Split(z["x"], z["y"], z["x_test"], z["y_test"])
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:
        raise DatasetUnavailable(
            f"mnist1d is not installed ({exc}); install it with `pip install mnist1d` "
            "(the data are generated locally, nothing is downloaded)") from None
    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = key["num_samples"], key["train_split"], key["seed"]
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    split = Split(np.asarray(data["x"], float), np.asarray(data["y"], int),
                  np.asarray(data["x_test"], float), np.asarray(data["y_test"], int))
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, x=split.x, y=split.y, x_test=split.x_test, y_test=split.y_test)
    os.replace(tmp, path)  # atomic: concurrent workers never read a half-written cache
    return split


# ------------------------------------------------------- real MNIST / CIFAR
def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The folder holding real datasets: ``explicit`` or ``$GBU_DATA_DIR``."""
    where = explicit or os.environ.get(DATA_DIR_VARIABLE)
    if not where:
        raise DatasetUnavailable(f"no data folder: pass data_dir=... or set ${DATA_DIR_VARIABLE} to a folder "
                                 "holding MNIST (idx files) or CIFAR-10 (cifar-10-batches-py)")
    path = Path(where).expanduser()
    if not path.is_dir():
        raise DatasetUnavailable(f"{path} (from {'data_dir' if explicit else '$' + DATA_DIR_VARIABLE}) is not a folder")
    return path


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file (magic {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist(data_dir: str | os.PathLike | None = None) -> Split:
    """Real MNIST from idx files (x scaled to [0, 1], flattened to 784)."""
    root = resolve_data_dir(data_dir)
    names = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    found = []
    for name in names:
        cands = [root / sub / (name + ext) for sub in ("", "MNIST/raw", "mnist") for ext in ("", ".gz")]
        hit = next((c for c in cands if c.is_file()), None)
        if hit is None:
            raise DatasetUnavailable(f"MNIST file {name}[.gz] not found under {root} (or its MNIST/raw)")
        found.append(_read_idx(hit))
    xtr, ytr, xte, yte = found
    return Split(xtr.reshape(len(xtr), -1) / 255.0, ytr.astype(int), xte.reshape(len(xte), -1) / 255.0, yte.astype(int))


def cifar10(data_dir: str | os.PathLike | None = None) -> Split:
    """Real CIFAR-10 from the python pickles (x scaled to [0, 1], 3072 features, CHW order)."""
    root = resolve_data_dir(data_dir)
    folder = root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").is_dir() else root

    def batch(name):
        path = folder / name
        if not path.is_file():
            raise DatasetUnavailable(f"CIFAR-10 file {name} not found in {folder}")
        with open(path, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        return np.asarray(d[b"data"], dtype=float) / 255.0, np.asarray(d[b"labels"], dtype=int)
    parts = [batch(f"data_batch_{i}") for i in range(1, 6)]
    xte, yte = batch("test_batch")
    return Split(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), xte, yte)


def one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Targets for multi-output least squares: row i is e_{y_i}."""
    return np.eye(num_classes)[np.asarray(y, dtype=int)]


# The mnist1d sets the GPU tier reads at full scale. The GPU machine has no mnist1d package:
# generate them here, on the CPU, then point the run at the folder (GBU_CACHE_DIR).
GPU_TIER_MNIST1D = ((8000, 0.5), (5000, 0.8))


def prepare_gpu_tier(folder: str | os.PathLike) -> list[Path]:
    """Generate the GPU tier's datasets into ``folder`` (the cache format ``mnist1d`` reads)."""
    previous = os.environ.get(CACHE_DIR_VARIABLE)
    os.environ[CACHE_DIR_VARIABLE] = str(folder)
    try:
        for samples, split in GPU_TIER_MNIST1D:
            mnist1d(samples, split)
    finally:
        if previous is None:
            os.environ.pop(CACHE_DIR_VARIABLE, None)
        else:
            os.environ[CACHE_DIR_VARIABLE] = previous
    return sorted(Path(folder).glob("mnist1d-*.npz"))


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "prepare-gpu-tier":
        sys.exit("usage: python -m problems.overparam.datasets prepare-gpu-tier FOLDER")
    for written in prepare_gpu_tier(sys.argv[2]):
        print(f"wrote {written}")
