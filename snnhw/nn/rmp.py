"""RMP-Loss (docs/training.md): pull membranes toward the spike levels.

``L_rmp = mean over layers of mean over steps, neurons, batch of
(clip(z, 0, s_max) - s) ** 2`` with ``z = v / theta`` the pre-fire membrane and
``s`` the spike it produced (treated as a constant target). Training only:
no inference cost, no parameters. The exact published equation was not
available; this is the form docs/training.md gives.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .neuron import MultiBitLIF

__all__ = ["RMPLoss"]

SCHEDULES = ("constant", "cosine")


class RMPLoss(nn.Module):
    """The RMP regulariser, weighted by ``lam`` (optionally ramped in).

    Parameters
    ----------
    lam : float
        Weight of the regulariser (default 0.005).
    schedule : {"constant", "cosine"}
        ``cosine`` ramps the weight from 0 to ``lam`` over ``total_epochs``
        as ``lam * (1 - cos(pi * epoch / total_epochs)) / 2``.
    total_epochs : int
        Needed by ``cosine``.
    """

    def __init__(self, lam: float = 0.005, schedule: str = "constant",
                 total_epochs: int | None = None):
        super().__init__()
        if lam < 0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        if schedule == "cosine" and not total_epochs:
            raise ValueError("the cosine schedule needs total_epochs")
        self.lam, self.schedule, self.total_epochs = float(lam), schedule, total_epochs

    def weight(self, epoch: int = 0) -> float:
        if self.schedule == "constant":
            return self.lam
        frac = min(max(epoch / self.total_epochs, 0.0), 1.0)
        return self.lam * (1.0 - math.cos(math.pi * frac)) / 2.0

    @staticmethod
    def regulariser(neurons: list[MultiBitLIF]) -> torch.Tensor:
        """Unweighted ``L_rmp`` over the recorded membranes of ``neurons``."""
        per_layer = []
        for n in neurons:
            if not n.recorded:
                raise RuntimeError("no recorded membranes: call model.record(True) before forward")
            z = torch.stack([v for v, _ in n.recorded])
            s = torch.stack([s for _, s in n.recorded]).detach()
            per_layer.append(((z.clamp(0, n.s_max) - s) ** 2).mean())
        return torch.stack(per_layer).mean()

    def forward(self, neurons: list[MultiBitLIF], epoch: int = 0) -> torch.Tensor:
        return self.weight(epoch) * self.regulariser(neurons)
