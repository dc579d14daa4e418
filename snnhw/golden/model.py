"""Bit-exact integer golden model: the definition of what the hardware computes.

Implements docs/arithmetic.md ("One neuron, one time step" and "Readout") on a batch of
samples at once. Every quantity is an ``int64`` NumPy array and every
operation is exact; the result is compared with ``==`` by every other stage.

Speed comes from two observations that change nothing in the arithmetic:

* The charge ``I = b + W @ s_in`` of a layer does not depend on its state, so
  the charges of all ``T`` steps are one matrix product once the previous
  layer's spikes are known. Layers are run one after another, each over all
  steps; only the elementwise leak/fire/reset runs step by step.
* A conv layer's charge is the same product over the im2col matrix (every
  output position's window as a row, zero padding included), so it is one
  matrix product too; :meth:`snnhw.ir.ConvLayer.dense_matrix` gives the
  equivalent dense layer, and a test shows both agree.
* Integer matmul in NumPy does not use BLAS. A floating-point product is
  exact when every partial sum is an integer below the format's exact range
  (``2**24`` for float32, ``2**53`` for float64): every term ``W * s`` and
  every partial sum is bounded by :meth:`snnhw.ir.Network.current_bound`, so
  when that bound is below the limit the BLAS result is the exact integer.
  Otherwise the model falls back to ``int64`` matmul (always exact: the IR
  rejects networks whose sums could reach ``2**62``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Network
from ..ir.neuron import NeuronFields
from ..util import signed_range
from .kinds import charge_of
from .kinds.conv import im2col
from .products import CHARGE_PATHS, charge_path, product

__all__ = ["CHARGE_PATHS", "LayerTrace", "Trace", "charge_path", "check_input", "im2col",
           "run"]


@dataclass
class LayerTrace:
    """Per-step state of one layer; every array is ``[batch, T, n_out]`` int64.

    For the last layer under ``readout="membrane"`` the layer does not fire:
    ``v`` and ``u`` hold the running logit ``sum_{t'<=t} I[t']`` (exact, no
    leak, no saturation) and ``s`` is zero.
    """

    I: np.ndarray
    v: np.ndarray
    s: np.ndarray
    u: np.ndarray


@dataclass
class Trace:
    """Result of :func:`run`.

    Attributes
    ----------
    logits : ndarray, ``[batch, n_out]`` int64
    classes : ndarray, ``[batch]`` int64 (argmax, ties to the lowest index)
    layers : list of LayerTrace, or None when ``trace=False``
    paths : list of str
        The charge path (:data:`CHARGE_PATHS`) used for each layer.
    """

    logits: np.ndarray
    classes: np.ndarray
    layers: list[LayerTrace] | None
    paths: list[str]


def check_input(net: Network, x) -> np.ndarray:
    """Validate an input batch ``[batch, T, n_in]`` and return it as int64.

    Raises ``ValueError`` (or ``TypeError`` for a non-integer dtype) with a
    message that says what is wrong.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"input must have an integer dtype, got {x.dtype}")
    expected = ("batch", net.timesteps, net.n_in)
    if x.ndim != 3 or x.shape[1] != net.timesteps or x.shape[2] != net.n_in:
        raise ValueError(f"input must have shape {expected}, got {x.shape}")
    hi = (1 << net.in_bits) - 1
    if x.size and (x.min() < 0 or x.max() > hi):
        bad = x.min() if x.min() < 0 else x.max()
        raise ValueError(
            f"input value {int(bad)} is outside 0..{hi} (in_bits={net.in_bits})"
        )
    return x.astype(np.int64, copy=False)


def _neuron_steps(layer: NeuronFields, I: np.ndarray, keep: bool, path: str):
    """Leak, saturate, fire and reset over all steps (docs/arithmetic.md).

    ``I`` is ``[batch, T, n_out]``, the feed-forward charge; a recurrent layer's
    feedback ``R s[t-1]`` is added to it here, step by step, in place (so ``I`` is
    the whole charge afterwards). Returns ``(s, v, u)`` where ``v`` and ``u`` are
    ``None`` unless ``keep``.
    """
    R = layer.feedback
    batch, T, n_out = I.shape
    lo, hi = signed_range(layer.u_bits)
    k, off, s_max, L = layer.k, layer.fire_offset, layer.s_max, layer.leak_shift
    s_all = np.empty_like(I)
    v_all = np.empty_like(I) if keep else None
    u_all = np.empty_like(I) if keep else None
    u = np.zeros((batch, n_out), dtype=np.int64)
    for t in range(T):
        if R is not None and t > 0:
            I[:, t] += product(s_all[:, t - 1], R.T, path)
        u_l = u if L is None else u - (u >> L)
        v = np.clip(u_l + I[:, t], lo, hi)
        s = np.clip((v + off) >> k, 0, s_max)
        if layer.reset == "soft":
            u = v - (s << k)
        else:
            u = np.where(s > 0, 0, v)
        s_all[:, t] = s
        if keep:
            v_all[:, t] = v
            u_all[:, t] = u
    return s_all, v_all, u_all


def run(net: Network, x, *, trace: bool = False, path: str = "auto") -> Trace:
    """Run a batch through the network.

    Parameters
    ----------
    net : Network
    x : array of int, ``[batch, T, n_in]``
        Input values ``0..2**in_bits - 1`` per step (direct encoding).
    trace : bool
        Keep every layer's ``I, v, s, u'`` per step (memory grows with
        ``batch * T * neurons``); off by default.
    path : {"auto", "float32", "float64", "int64"}
        Charge path; ``auto`` takes the fastest exact one per layer. Naming a
        path that is not exact for a layer raises ``ValueError``.

    Returns
    -------
    Trace
    """
    x = check_input(net, x)
    batch, T, _ = x.shape
    spikes = x
    traces: list[LayerTrace] = []
    paths: list[str] = []
    last = len(net.layers) - 1
    logits = None
    for i, layer in enumerate(net.layers):
        p = charge_path(net.current_bound(i), path)
        paths.append(p)
        I = charge_of(layer)(layer, spikes.reshape(batch * T, -1), p).reshape(batch, T, -1)
        if i == last and net.readout == "membrane":
            running = np.cumsum(I, axis=1)
            logits = running[:, -1].copy()
            if trace:
                traces.append(LayerTrace(I=I, v=running, s=np.zeros_like(I), u=running))
            break
        s, v, u = _neuron_steps(layer, I, keep=trace, path=p)
        if trace:
            traces.append(LayerTrace(I=I, v=v, s=s, u=u))
        if i == last:
            logits = s.sum(axis=1)
        spikes = s
    classes = np.argmax(logits, axis=1).astype(np.int64)
    return Trace(logits=logits, classes=classes, layers=traces if trace else None, paths=paths)
