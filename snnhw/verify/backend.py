"""What a hardware backend (a simulator or a board) gives co-verification."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..ir import Network

__all__ = ["Backend", "BackendResult"]


@dataclass
class BackendResult:
    logits: list[list[int]]
    classes: list[int]
    info: dict = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def run(self, net: Network, x: np.ndarray, progress=None) -> BackendResult: ...
