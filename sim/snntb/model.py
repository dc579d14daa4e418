"""The reference: samples rebuilt from the monitored input, run by the golden model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from snnhw import golden
from snnhw.ir import Network
from snnhw.protocol.streams import Event

__all__ = ["Model", "Expected"]


@dataclass
class Expected:
    """What the golden model says sample ``number`` must give."""

    number: int
    logits: list[int]
    cls: int
    trace: golden.Trace


class Model:
    """Turns observed input events into samples and announces their expected results.

    Each end-of-step marker closes a step; ``T`` of them close a sample, which
    is run through :func:`snnhw.golden.run` (with its trace, kept for naming a
    mismatch) and handed to every callback as an :class:`Expected`.
    :meth:`discard_partial` forgets a sample cut by a ``clear`` pulse.
    """

    def __init__(self, net: Network):
        self.net = net
        self.callbacks: list[Callable[[Expected], None]] = []
        self.samples: list[np.ndarray] = []
        self._steps: list[np.ndarray] = []
        self._cur = np.zeros(net.n_in, dtype=np.int64)
        self.errors: list[str] = []
        self.log = logging.getLogger("snntb.model")

    def add_callback(self, callback: Callable[[Expected], None]) -> Model:
        self.callbacks.append(callback)
        return self

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
        expected = Expected(len(self.samples), t.logits[0].tolist(), int(t.classes[0]), t)
        self.samples.append(x[0])
        self.log.debug("sample %d: class %d", expected.number, expected.cls)
        for callback in self.callbacks:
            callback(expected)

    def discard_partial(self) -> None:
        self._steps = []
        self._cur = np.zeros(self.net.n_in, dtype=np.int64)
