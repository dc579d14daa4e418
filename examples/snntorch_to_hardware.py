"""From a snnTorch model object to RTL checked bit for bit, in Python (no shell).

A small snnTorch network (a recurrent RLeaky layer, then Leaky) goes through snnTorch's
own NIR export as an in-memory graph, into snnhw (quantised to the integer IR), through
the golden model, the generated Verilog on Verilator (torch integer == golden == RTL),
and the iCEBreaker estimate. Run: ``.venv/bin/python examples/snntorch_to_hardware.py``.
"""

import warnings

import numpy as np
import snntorch as snn
import torch
from snntorch.export_nir import export_to_nir
from torch import nn

import snnhw


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.rec = snn.RLeaky(beta=0.875, linear_features=16, threshold=torch.ones(16),
                              reset_mechanism="subtract", reset_delay=False, init_hidden=True)
        self.fc2 = nn.Linear(16, 4)
        self.out = snn.Leaky(beta=torch.full((4,), 0.875), threshold=torch.ones(4),
                             reset_mechanism="subtract", reset_delay=False, init_hidden=True)

    def forward(self, x):
        return self.out(self.fc2(self.rec(self.fc1(x))))


def main() -> dict:
    torch.manual_seed(0)
    with torch.no_grad():
        model = Net()
        model.fc1.weight.mul_(3.0)
    with warnings.catch_warnings():     # snnTorch's exporter uses a deprecated nirtorch call
        warnings.simplefilter("ignore")
        graph = export_to_nir(model, torch.zeros(12))   # an unbatched sample

    net = snnhw.from_nir(graph, timesteps=10, name="snntorch-rleaky")
    print(net)
    x = (np.random.default_rng(0).random((32, 10, 12)) < 0.3).astype(np.int64)
    print("classes (golden model):", net.run(x).classes[:8])
    checked = net.verify(x, lanes=4, in_pauses="light", out_pauses="bursty")
    print(checked)
    est = net.estimate("icebreaker", lanes=4)
    print(f"iCEBreaker: fits {est.fits}, ~{est.lc} logic cells, {est.bram} block RAM")
    return {"ok": checked.ok, "samples": checked.samples, "fits": est.fits}


if __name__ == "__main__":
    result = main()
    raise SystemExit(0 if result["ok"] else 1)
