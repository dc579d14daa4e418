"""Quantisation-aware training (QAT): the forward pass in the integer arithmetic of the
export, so that the trained model *is* the integer model.

:func:`integer_forward` quantises the model exactly as :func:`snnhw.nn.quant.quantize`
does (BatchNorm and the input scale folded, one threshold exponent ``k`` per layer,
weights rounded to ``w_bits``, the firing offset), but keeps the gradient path: each
rounding is straight-through (``round(z)`` forward, the identity backward), and
:meth:`snnhw.nn.quant.IntegerSNN.run` runs the step loop on float64 tensors that hold
integers (every value below ``2**53``, so every sum, shift and clamp is exact): the
leak's and the fire's arithmetic shifts are floors that pass their gradient straight
through, saturation and the spike clamp pass none outside their range. The forward
values are therefore the integer mode's, bit for bit (tested against the golden model
on every layer's ``I, v, s, u``); the gradients are those of the float arithmetic
around them.

A model with ``qat`` set (``model.set_qat(w_bits, u_bits)``, saved in its config and
checkpoint) runs this forward pass always, so its accuracy is the integer accuracy
of its export at those widths. BatchNorm uses its running statistics throughout (they
are what the export folds).
"""

from __future__ import annotations

import torch

__all__ = ["check_qat", "integer_forward"]


def check_qat(qat) -> dict | None:
    """``qat`` (``None`` or ``{"w_bits": 2..16 or a list of them, one per layer,
    "u_bits": 8..32, "k_rule": "max" | "mse"}``, ``k_rule`` optional: ``max``) checked,
    as a dict (per-layer widths as a list)."""
    from .quant import K_RULES, ExportError, layer_widths

    if qat is None:
        return None
    if not isinstance(qat, dict) or not {"w_bits", "u_bits"} <= set(qat) <= {
            "w_bits", "u_bits", "k_rule"}:
        raise ValueError(f"qat must be None or a dict of w_bits, u_bits (and k_rule), got "
                         f"{qat!r}")
    if qat.get("k_rule", "max") not in K_RULES:
        raise ValueError(f"qat k_rule must be one of {K_RULES}, got {qat['k_rule']!r}")
    w_bits = qat["w_bits"]
    try:
        layer_widths(w_bits, None)
    except ExportError as exc:
        raise ValueError(f"qat {exc}") from None
    v = qat["u_bits"]
    if isinstance(v, bool) or not isinstance(v, int) or not 8 <= v <= 32:
        raise ValueError(f"qat u_bits must be an integer in 8..32, got {v!r}")
    return {"w_bits": w_bits if isinstance(w_bits, int) else list(w_bits), "u_bits": v,
            "k_rule": qat.get("k_rule", "max")}


def integer_forward(model, x, *, w_bits, u_bits: int, k_rule: str = "max"
                    ) -> tuple[torch.Tensor, dict]:
    """``(logits, trace)`` of ``x[batch, T, n_in]`` (integer-valued) in the export's
    integer arithmetic at ``w_bits`` (one width, or one per layer) and ``u_bits``,
    differentiable (module doc).

    ``trace`` is :meth:`~snnhw.nn.quant.IntegerSNN.run`'s (float64 tensors holding the
    integers); ``logits`` are its logits in the float model's scale (a membrane
    readout's sum of ``I`` over ``2**k`` per threshold and the ``T`` steps, a spike
    readout's counts over ``T``), for the loss and the class."""
    from .folded import differentiable
    from .quant import quantize

    with differentiable():
        q = quantize(model, w_bits=w_bits, u_bits=u_bits, ste=True, k_rule=k_rule)
    trace = q.run(torch.as_tensor(x).to(torch.float64))
    per = (1 << q.layers[-1].k) if q.readout == "membrane" else 1
    return trace["logits"] / (per * q.timesteps), trace
