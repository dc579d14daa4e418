"""From a Sinabs convolutional model object to RTL checked bit for bit, in Python.

Sinabs 3.1's ``to_nir`` of a conv network leaves the conv layers' input types out, so
``nir.write`` cannot save it; the graph object goes to snnhw directly. Sinabs neurons
are discrete-time (``dt = 1``; with snnTorch's default step they would never fire). Run:
``.venv/bin/python examples/sinabs_to_hardware.py``.
"""

import warnings

import numpy as np
import sinabs.layers as sl
import torch
from sinabs.nir import to_nir
from torch import nn

import snnhw


def main() -> dict:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), sl.IAFSqueeze(batch_size=1),
        sl.SumPool2d(2), nn.Flatten(),
        nn.Linear(64, 6, bias=False), sl.IAFSqueeze(batch_size=1))
    with torch.no_grad():
        model[0].weight.mul_(2.0)
    with warnings.catch_warnings():     # nirtorch warns about its own deprecations
        warnings.simplefilter("ignore")
        graph = to_nir(model, torch.zeros(1, 1, 8, 8))

    net = snnhw.from_nir(graph, timesteps=6, dt=1.0, name="sinabs-conv")
    print(net)
    x = (np.random.default_rng(0).random((16, 6, 64)) < 0.4).astype(np.int64)
    fired = net.run(x, trace=True).layers[0].s.sum()
    print("spikes of the conv layer (golden model):", int(fired))
    checked = net.verify(x, lanes=2, in_pauses="bursty")
    print(checked)
    return {"ok": checked.ok and fired > 0, "samples": checked.samples}


if __name__ == "__main__":
    raise SystemExit(0 if main()["ok"] else 1)
