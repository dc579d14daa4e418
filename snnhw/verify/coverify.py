"""Three-way co-verification: torch integer mode, golden model, hardware.

The same integer inputs go through the torch integer mode
(:class:`snnhw.nn.quant.IntegerSNN`), the golden model and a *backend* that
runs the hardware: the generated RTL in a simulator
(:class:`snntb.backend.SimBackend`) or a board over UART
(:class:`snnhw.host.BoardBackend`). Any disagreement is reported with the
first differing sample, layer, step and neuron the traces allow (torch and
golden expose every layer; the hardware exposes the logits and the class).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..golden.compare import integer_vs_golden_batched
from ..ir import Network
from .backend import Backend

__all__ = ["CoverifyReport", "coverify"]


@dataclass
class CoverifyReport:
    samples: int
    torch_golden_agree: int
    golden_hw_agree: int
    acc_torch: float | None     # None when the inputs have no labels
    acc_golden: float | None
    acc_hw: float | None
    acc_float: float | None
    first_mismatch_torch_golden: dict | None
    first_mismatch_golden_hw: dict | None
    backend: str
    backend_info: dict
    seconds: dict

    @property
    def ok(self) -> bool:
        return self.torch_golden_agree == self.samples and self.golden_hw_agree == self.samples

    def as_dict(self) -> dict:
        return {**self.__dict__, "ok": self.ok}


def coverify(net: Network, x: np.ndarray, y: np.ndarray, backend: Backend, *,
             torch_mode=None, float_pred: np.ndarray | None = None,
             progress=None, batch: int | None = None) -> CoverifyReport:
    """Run ``x[batch, T, n_in]`` through all three and compare (labels ``y``, or ``None``:
    no accuracies). Torch and golden, every layer traced, run ``batch`` samples at a time
    (default: all at once), so that their memory stays bounded."""
    x = np.asarray(x, dtype=np.int64)
    y = None if y is None else np.asarray(y)

    def acc(pred):
        return None if y is None or pred is None else float((np.asarray(pred) == y).mean())
    n = len(x)
    t0 = time.perf_counter()
    if torch_mode is None:
        from ..nn.quant import IntegerSNN  # PyTorch only when co-verification runs

        torch_mode = IntegerSNN.from_ir(net)
    t_classes, g_logits, g_classes, same, mm_tg, _ = integer_vs_golden_batched(
        torch_mode, net, x, batch)
    t2 = time.perf_counter()
    hw = backend.run(net, x, progress=progress)
    t3 = time.perf_counter()


    hw_logits = np.full_like(g_logits, np.iinfo(np.int64).min)
    hw_classes = np.full(n, -1, dtype=np.int64)
    got = min(len(hw.logits), n)
    for i in range(got):
        if len(hw.logits[i]) == net.n_out:
            hw_logits[i] = hw.logits[i]
        hw_classes[i] = hw.classes[i]
    agree_hw = np.all(hw_logits == g_logits, axis=1) & (hw_classes == g_classes)
    mm_gh = None
    if not agree_hw.all():
        s = int(np.flatnonzero(~agree_hw)[0])
        if s >= got:
            mm_gh = dict(sample=s, what="missing result", received=len(hw.logits), sent=n)
        else:
            diff = np.flatnonzero(hw_logits[s] != g_logits[s])
            neuron = int(diff[0]) if diff.size else None
            mm_gh = dict(sample=s, layer=len(net.layers) - 1, step=None, neuron=neuron,
                         what="logit" if diff.size else "class",
                         golden=int(g_logits[s, neuron]) if diff.size else int(g_classes[s]),
                         hardware=int(hw_logits[s, neuron]) if diff.size else int(hw_classes[s]))
    if len(hw.logits) > n:
        mm_gh = mm_gh or dict(sample=n, what="extra results", received=len(hw.logits), sent=n)
        agree_hw[:] = False
    return CoverifyReport(
        samples=n,
        torch_golden_agree=int(same.sum()),
        golden_hw_agree=int(agree_hw.sum()),
        acc_torch=acc(t_classes),
        acc_golden=acc(g_classes),
        acc_hw=acc(hw_classes),
        acc_float=acc(float_pred),
        first_mismatch_torch_golden=mm_tg,
        first_mismatch_golden_hw=mm_gh,
        backend=backend.name,
        backend_info=hw.info,
        seconds={"torch_golden": round(t2 - t0, 2),
                 "hardware": round(t3 - t2, 2)},
    )
