"""Your own data, trained, checked and built, in Python.

An ``.npz`` file with ``x_train, y_train, x_test, y_test`` (docs/data.md; here a small
synthetic problem made with scikit-learn) is trained as a spiking MLP, quantised to the
integer IR, checked on Verilator over the whole test split (torch integer == golden ==
RTL) and built for the iCEBreaker with the open toolchain. Run:
``.venv/bin/python examples/own_data.py [OUT_DIR]``.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

import snnhw


def make_file(path: Path) -> Path:
    """Four classes of 16 features, as 4-bit integers."""
    x, y = make_classification(n_samples=600, n_features=16, n_informative=8, n_classes=4,
                               n_clusters_per_class=1, class_sep=2.0, random_state=0)
    x = np.clip(np.round((x - x.min()) / (x.max() - x.min()) * 15), 0, 15).astype(np.int64)
    np.savez(path, x_train=x[:480], y_train=y[:480], x_test=x[480:], y_test=y[480:])
    return path


def main(out_dir=None) -> dict:
    out = Path(out_dir or tempfile.mkdtemp(prefix="snnhw-own-"))
    out.mkdir(parents=True, exist_ok=True)
    data = str(make_file(out / "mine.npz"))
    trained = snnhw.train(data, in_bits=4, hidden=(24,), timesteps=4, epochs=15)
    print(trained)
    net = trained.export(w_bits=6, name="mine")
    net.save(out / "mine.snn")
    checked = net.verify(lanes=2)          # the whole test split of the data it was trained on
    print(checked)
    built = net.build("icebreaker", lanes=2, out_dir=out / "build")
    print(f"iCEBreaker: {built.resources['lc']['used']} logic cells, Fmax "
          f"{built.clocks['cd_sync.clk']['fmax_mhz']} MHz, DSP {built.dsp_used}, "
          f"bitstream {built.bitstream}")
    return {"ok": checked.ok and built.timing_met, "samples": checked.samples,
            "accuracy": checked.acc_hw}


if __name__ == "__main__":
    raise SystemExit(0 if main(sys.argv[1] if len(sys.argv) > 1 else None)["ok"] else 1)
