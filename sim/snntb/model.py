"""The reference: samples rebuilt from the monitored input, run by the golden model."""

from __future__ import annotations

from collections import deque

import numpy as np

from snnhw import golden
from snnhw.ir import Network
from snnhw.protocol.streams import Event

__all__ = ["Model"]


class Model:
    """Turns observed input events into samples and queues their expected results.

    Each end-of-step marker closes a step; ``T`` of them close a sample, which
    is run through :func:`snnhw.golden.run` (with its trace, kept for
    naming a mismatch). :meth:`discard_partial` forgets a sample cut by a
    ``clear`` pulse.
    """

    def __init__(self, net: Network):
        self.net = net
        self.expected: deque = deque()
        self.samples: list[np.ndarray] = []
        self._steps: list[np.ndarray] = []
        self._cur = np.zeros(net.n_in, dtype=np.int64)
        self.errors: list[str] = []

    def observe(self, e: Event) -> None:
        if e.eos:
            self._steps.append(self._cur)
            self._cur = np.zeros(self.net.n_in, dtype=np.int64)
            if len(self._steps) == self.net.timesteps:
                self._close()
            return
        if e.index >= self.net.n_in:
            self.errors.append(f"input event index {e.index} >= n_in {self.net.n_in}")
            return
        if self._cur[e.index]:
            self.errors.append(f"input index {e.index} sent twice in one step")
        self._cur[e.index] = e.value

    def _close(self) -> None:
        x = np.stack(self._steps)[None]
        self._steps = []
        t = golden.run(self.net, x, trace=True)
        number = len(self.samples)
        self.samples.append(x[0])
        self.expected.append((number, t.logits[0].tolist(), int(t.classes[0]), t))

    def discard_partial(self) -> None:
        self._steps = []
        self._cur = np.zeros(self.net.n_in, dtype=np.int64)
