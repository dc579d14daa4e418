"""The NIR nodes snnhw maps one to one: neurons and dense weights (rules in
:mod:`snnhw.nn.nirio`), shared by the MLP and the CNN import."""

from __future__ import annotations

import math

import numpy as np

from ..errors import SnnhwError

__all__ = ["DEFAULT_DT", "LEAK_TOLERANCE", "NEURONS", "WEIGHTS", "NIRError"]

DEFAULT_DT = 1e-4
LEAK_TOLERANCE = 1e-5
NEURONS = ("LIF", "IF", "CubaLIF")
WEIGHTS = ("Affine", "Linear")


class NIRError(SnnhwError, ValueError):
    """A NIR graph snnhw cannot represent; the message names the node and parameter."""


def _per_neuron(name: str, param: str, value, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    arr = arr.reshape(-1)
    if arr.size == 1 and n != 1:
        arr = np.full(n, float(arr[0]))
    if arr.size != n:
        raise NIRError(f"node {name!r}: {param} has {arr.size} values for {n} neurons")
    if not np.all(np.isfinite(arr)) and param not in ("tau", "tau_mem", "tau_syn", "r"):
        raise NIRError(f"node {name!r}: {param} is not finite")
    return arr


def _uniform(name: str, param: str, arr: np.ndarray, tol: float) -> float:
    if arr.size and np.ptp(arr) > tol:
        raise NIRError(f"node {name!r}: {param} differs between neurons ({arr.min():.6g} .. "
                       f"{arr.max():.6g}); snnhw has one leak per layer")
    return float(arr.mean()) if arr.size else 0.0


def _leak_shift(name: str, param: str, a: np.ndarray, dt: float, tol: float) -> int | None:
    """``a = dt / tau`` (the fraction lost per step) -> ``L`` with ``a = 2**-L``, or None."""
    if np.any(a < -tol) or np.any(a > 1 + tol):
        raise NIRError(f"node {name!r}: dt / {param} = {a.min():.6g}..{a.max():.6g} lies "
                       "outside [0, 1]; the forward-Euler step would not be a leak (check dt)")
    mean = _uniform(name, f"dt / {param}", a, tol)
    if abs(mean) <= tol:
        return None
    L = round(-math.log2(mean)) if mean > 0 else 0
    if L < 1 or abs(mean - 2.0 ** -L) > tol:
        raise NIRError(
            f"node {name!r}: {param} gives a leak of {1 - mean:.6g} per step (dt={dt:g}); "
            f"a shift computes 1 - 2**-L (nearest: L={max(L, 1)}, "
            f"{1 - 2.0 ** -max(L, 1):.6g}); the difference exceeds the tolerance {tol:g}")
    return L


def _neuron(name: str, node, n: int, dt: float, tol: float) -> dict:
    """Scale of the input, constant charge, threshold and leak shift of a neuron node."""
    kind = type(node).__name__
    thr = _per_neuron(name, "v_threshold", node.v_threshold, n)
    if np.any(thr <= 0):
        raise NIRError(f"node {name!r}: v_threshold must be positive, got {thr.min():.6g}")
    v_reset = getattr(node, "v_reset", None)
    if v_reset is not None and np.any(np.abs(_per_neuron(name, "v_reset", v_reset, n)) > tol):
        raise NIRError(f"node {name!r}: v_reset must be 0 (snnhw resets to 0 or subtracts "
                       "the threshold)")
    r = _per_neuron(name, "r", node.r, n)
    if kind == "IF":
        if not np.all(np.isfinite(r)):
            raise NIRError(f"node {name!r}: r is not finite")
        return {"scale": r * dt, "charge": np.zeros(n), "theta": thr, "leak_shift": None}
    if kind == "LIF":
        tau = _per_neuron(name, "tau", node.tau, n)
        tau_param = "tau"
    else:  # CubaLIF
        tau = _per_neuron(name, "tau_mem", node.tau_mem, n)
        tau_param = "tau_mem"
        tau_syn = _per_neuron(name, "tau_syn", node.tau_syn, n)
        alpha = 1 - dt / tau_syn
        if np.any(np.abs(alpha) > tol):
            raise NIRError(f"node {name!r}: tau_syn gives a synaptic decay of "
                           f"{alpha.max():.6g} per step (dt={dt:g}); snnhw neurons have no "
                           "synaptic current state, so only tau_syn == dt (decay 0) maps")
        w_in = _per_neuron(name, "w_in", getattr(node, "w_in", 1.0), n)
        r = r * w_in * dt / tau_syn
    if np.any(tau <= 0):
        raise NIRError(f"node {name!r}: {tau_param} must be positive")
    a = dt / tau  # 0 for tau = inf
    shift = _leak_shift(name, tau_param, a, dt, tol)
    # an accepted leak is taken as exactly 2**-L, here too (dt / tau carries float32 noise)
    a = np.full(n, 0.0 if shift is None else 2.0 ** -shift)
    if shift is None:
        # tau = inf: no leak. snnTorch writes beta = 1 as tau = r = inf (its r is tau / dt),
        # whose input scale r * dt / tau is the limit 1; a finite r with tau = inf is r * dt
        with np.errstate(invalid="ignore"):
            scale = np.where(np.isinf(tau), np.where(np.isinf(r), 1.0, r * dt), r * dt / tau)
    else:
        scale = r * a
    if np.any(~np.isfinite(scale)):
        raise NIRError(f"node {name!r}: r * dt / {tau_param} is not finite")
    v_leak = _per_neuron(name, "v_leak", node.v_leak, n)
    return {"scale": scale, "charge": v_leak * a, "theta": thr, "leak_shift": shift}


def _weights(name: str, node) -> tuple[np.ndarray, np.ndarray]:
    W = np.asarray(node.weight, dtype=np.float64)
    if W.ndim != 2:
        raise NIRError(f"node {name!r}: weight has shape {W.shape}; only dense 2-D weights "
                       "(Affine, Linear) are supported")
    b = np.asarray(node.bias, dtype=np.float64).reshape(-1) if hasattr(node, "bias") \
        else np.zeros(W.shape[0])
    if b.size != W.shape[0]:
        raise NIRError(f"node {name!r}: bias has {b.size} values for {W.shape[0]} outputs")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
        raise NIRError(f"node {name!r}: weights or bias are not finite")
    return W, b




def fold_neuron(ly: dict, first: bool, in_scale: float):
    """``(W, b, R)`` of an imported dense layer in units of its neuron's threshold: the
    first layer's input scale undone, the neuron's input scale and leak charge folded
    in, a feedback node's bias (received every step) joined to the bias; ``R`` (the
    feedback's weights, scaled like ``W``) is ``None`` without feedback."""
    W, b = ly["W"], ly["b"]
    if first:
        W = W / in_scale
    R, bias_fb = ly.get("R", (None, 0.0))
    nr = ly["neuron"]
    if nr is not None:
        gain = nr["scale"] / nr["theta"]
        W = W * gain[:, None]
        b = ((b + bias_fb) * nr["scale"] + nr["charge"]) / nr["theta"]
        R = None if R is None else R * gain[:, None]
    return W, b, R
