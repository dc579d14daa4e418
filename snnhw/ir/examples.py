"""Seeded random networks and inputs, and the example network shipped in the package.

``python -m snnhw.ir.examples`` rewrites the shipped example files; a test checks
that the committed files are exactly what this module builds.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from itertools import pairwise
from pathlib import Path

import numpy as np

from ..util import signed_range
from .layers import ConvLayer, conv_out_size
from .schema import DenseLayer, Network, RecurrentLayer, save

__all__ = ["CNN_SHAPES", "build_example", "cnn_shaped", "example_paths",
           "random_conv_network", "random_input", "random_network", "with_widths"]


def random_network(
    rng: np.random.Generator,
    sizes: list[int],
    *,
    in_bits: int = 4,
    timesteps: int = 4,
    readout: str = "membrane",
    w_bits: int = 8,
    u_bits: int = 16,
    spike_bits: int = 2,
    k: int | None = None,
    fire_offset: int | str = "half",
    leak_shift: int | None = None,
    reset: str = "soft",
    weight_scale: float = 0.25,
    recurrent: tuple[int, ...] = (),
    name: str = "",
) -> Network:
    """A valid network with the given layer ``sizes`` (``[n_in, h1, ..., n_out]``).

    The layers whose indices ``recurrent`` lists are recurrent (docs/arithmetic.md,
    "Recurrence"), their ``R`` drawn like ``W``.

    Weights are drawn from a normal distribution scaled to ``weight_scale``
    of the ``w_bits`` range and clipped to it; biases are small. ``k`` defaults
    to a value that makes the layers fire at a moderate rate for inputs of
    ``in_bits``. ``fire_offset="half"`` means ``2**(k-1)`` rounding (or 0 when
    ``k == 0``); an int is used as is.
    """
    w_lo, w_hi = signed_range(w_bits)
    layers = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        s_bits_in = in_bits if i == 0 else spike_bits
        W = np.clip(np.rint(rng.normal(0, weight_scale * w_hi, (n_out, n_in))), w_lo, w_hi)
        b_half = 1 << (min(w_bits, u_bits) - 1)
        b = rng.integers(-b_half, b_half, n_out)
        if k is None:
            typical = weight_scale * w_hi * np.sqrt(n_in) * ((1 << s_bits_in) - 1) / 2
            k_i = int(np.clip(np.floor(np.log2(max(typical, 1.0))), 0, u_bits - 2))
        else:
            k_i = k
        off = (1 << (k_i - 1)) - 1 if fire_offset == "half" and k_i > 0 else (
            0 if fire_offset == "half" else int(fire_offset))
        fields = dict(W=W.astype(np.int64), b=b.astype(np.int64), w_bits=w_bits,
                      u_bits=u_bits, k=k_i, fire_offset=off, spike_bits=spike_bits,
                      leak_shift=leak_shift, reset=reset)
        if i in recurrent:
            R = np.clip(np.rint(rng.normal(0, weight_scale * w_hi, (n_out, n_out))), w_lo, w_hi)
            layers.append(RecurrentLayer(R=R.astype(np.int64), **fields))
        else:
            layers.append(DenseLayer(**fields))
    return Network(layers=layers, in_bits=in_bits, timesteps=timesteps,
                   readout=readout, name=name)


def with_widths(net: Network, widths: list[int]) -> Network:
    """``net`` with layer ``i``'s weights (every array of the layer but its bias ``b``:
    ``W``, and a recurrent layer's ``R``) at ``widths[i]`` bits:
    scaled from its own width to the new one's range and rounded, its threshold
    exponent and biases lowered by as many bits (a network whose layers differ in width, as
    :func:`snnhw.nn.quant.quantize` exports with a width per layer)."""
    if len(widths) != len(net.layers):
        raise ValueError(f"{len(widths)} widths for {len(net.layers)} layers")

    def narrow(W: np.ndarray, old: int, new: int) -> np.ndarray:
        gain = signed_range(new)[1] / signed_range(old)[1]
        return np.clip(np.rint(W * gain), *signed_range(new)).astype(np.int64)

    layers = []
    for ly, w in zip(net.layers, widths):
        k = max(ly.k - max(ly.w_bits - w, 0), 1 if ly.fire_offset else 0)
        half = ly.k > 0 and ly.fire_offset == (1 << (ly.k - 1)) - 1
        changes = {name: narrow(a, ly.w_bits, w) for name, a in ly.arrays().items()
                   if name != "b"}
        changes.update({"w_bits": w, "k": k, "b": np.asarray(ly.b, np.int64) >> (ly.k - k),
                        "fire_offset": (1 << (k - 1)) - 1 if half and k > 0 else 0})
        layers.append(dataclasses.replace(ly, **changes))
    return Network(layers=layers, in_bits=net.in_bits, timesteps=net.timesteps,
                   readout=net.readout, name=net.name)


def _layer_k(typical: float, u_bits: int, fire_offset) -> tuple[int, int]:
    k = int(np.clip(np.floor(np.log2(max(typical, 1.0))), 0, u_bits - 2))
    off = (1 << (k - 1)) - 1 if fire_offset == "half" and k > 0 else (
        0 if fire_offset == "half" else int(fire_offset))
    return k, off


def random_conv_network(
    rng: np.random.Generator,
    in_shape: tuple[int, int, int],
    convs: list[tuple],
    dense: list[int],
    *,
    in_bits: int = 3,
    timesteps: int = 3,
    readout: str = "membrane",
    w_bits: int = 6,
    u_bits: int = 16,
    spike_bits: int = 2,
    leak_shift: int | None = None,
    reset: str = "soft",
    weight_scale: float = 0.3,
    name: str = "",
) -> Network:
    """A valid network of conv layers, then dense layers of the given sizes.

    ``convs``: one ``(C_out, (KH, KW), (SH, SW), (PH, PW))`` per conv layer, each
    seeing the previous layer's output map (``in_shape`` for the first).
    """
    w_lo, w_hi = signed_range(w_bits)
    layers = []
    shape = tuple(in_shape)
    for i, (c_out, kernel, stride, padding) in enumerate(convs):
        s_bits_in = in_bits if i == 0 else spike_bits
        W = np.clip(np.rint(rng.normal(0, weight_scale * w_hi, (c_out, shape[0], *kernel))),
                    w_lo, w_hi).astype(np.int64)
        fan_in = shape[0] * kernel[0] * kernel[1]
        k, off = _layer_k(weight_scale * w_hi * np.sqrt(fan_in) * ((1 << s_bits_in) - 1) / 2,
                          u_bits, "half")
        b = rng.integers(-(1 << (k + 1)), 1 << (k + 1), c_out)
        layers.append(ConvLayer(W=W, b=b, in_shape=shape, w_bits=w_bits, u_bits=u_bits, k=k,
                                fire_offset=off, spike_bits=spike_bits, leak_shift=leak_shift,
                                reset=reset, stride=tuple(stride), padding=tuple(padding)))
        shape = (c_out, conv_out_size(shape[1], kernel[0], stride[0], padding[0]),
                 conv_out_size(shape[2], kernel[1], stride[1], padding[1]))
    n_in = shape[0] * shape[1] * shape[2]
    for n_out in dense:
        s_bits_in = in_bits if not layers else spike_bits
        W = np.clip(np.rint(rng.normal(0, weight_scale * w_hi, (n_out, n_in))), w_lo, w_hi)
        k, off = _layer_k(weight_scale * w_hi * np.sqrt(n_in) * ((1 << s_bits_in) - 1) / 2,
                          u_bits, "half")
        b = rng.integers(-(1 << (k + 1)), 1 << (k + 1), n_out)
        layers.append(DenseLayer(W=W.astype(np.int64), b=b, w_bits=w_bits, u_bits=u_bits, k=k,
                                 fire_offset=off, spike_bits=spike_bits, leak_shift=leak_shift,
                                 reset=reset))
        n_in = n_out
    return Network(layers=layers, in_bits=in_bits, timesteps=timesteps, readout=readout,
                   name=name)


#: the default spiking CNNs' hardware shapes (sum pools folded into the layer after
#: them: a 2-wide pool before a 3-wide kernel is a 6-wide kernel of stride 2), for
#: benchmarks that need the shape without a trained network: ``{name: (data set,
#: input shape, convs, dense sizes, weight bits, seed)}``
CNN_SHAPES = {
    # c32k5p2,sp2,c32k3p1,sp2,c32k3p1,sp2,d128 (snnhw.data.MNIST1D_CNN)
    "mnist1d-cnn": ("mnist1d", (1, 1, 40), [(32, (1, 5), (1, 1), (0, 2)),
                                            (32, (1, 6), (1, 2), (0, 2)),
                                            (32, (1, 6), (1, 2), (0, 2))], [128, 10], 8, 5),
    # c16k3p1,sp2,c32k3p1,sp2,d128 (snnhw.data.DIGITS_CNN)
    "digits-cnn": ("digits", (1, 8, 8), [(16, (3, 3), (1, 1), (1, 1)),
                                         (32, (6, 6), (2, 2), (2, 2))], [128, 10], 8, 6),
    # c32k5p2,sp2,c32k3p1,sp4: the iCEBreaker's MNIST-1D CNN, 10-bit weights
    "board-cnn": ("mnist1d", (1, 1, 40), [(32, (1, 5), (1, 1), (0, 2)),
                                          (32, (1, 6), (1, 2), (0, 2))], [10], 10, 8),
}


def cnn_shaped(name: str, in_bits: int) -> Network:
    """Seeded random weights in the shapes of :data:`CNN_SHAPES` ``[name]`` (T = 4,
    2-bit spikes, 16-bit membranes)."""
    _, in_shape, convs, dense, w_bits, seed = CNN_SHAPES[name]
    return random_conv_network(np.random.default_rng(seed), in_shape, convs, dense,
                               in_bits=in_bits, timesteps=4, spike_bits=2, w_bits=w_bits,
                               u_bits=16, name=f"{name}-shaped")


def random_input(rng: np.random.Generator, net: Network, batch: int,
                 density: float = 1.0) -> np.ndarray:
    """``[batch, T, n_in]`` uniform input values; a fraction ``1-density`` is zero."""
    hi = 1 << net.in_bits
    x = rng.integers(0, hi, (batch, net.timesteps, net.n_in))
    if density < 1.0:
        x = np.where(rng.random(x.shape) < density, x, 0)
    return x.astype(np.int64)


def example_paths() -> tuple[Path, Path]:
    """Paths of the shipped example network and its example input batch."""
    base = resources.files("snnhw") / "data"
    return Path(str(base / "example.snn")), Path(str(base / "example_input.npy"))


def build_example() -> tuple[Network, np.ndarray]:
    """The shipped example: 64-32-10, 5-bit inputs (digits-sized), T=4, 2-bit spikes."""
    rng = np.random.default_rng(20261122)
    net = random_network(rng, [64, 32, 10], in_bits=5, timesteps=4, spike_bits=2,
                         w_bits=8, u_bits=16, name="example-64-32-10")
    x = random_input(rng, net, 16, density=0.6)
    return net, x


def main() -> None:
    net, x = build_example()
    net_path, x_path = example_paths()
    net_path.parent.mkdir(parents=True, exist_ok=True)
    save(net, net_path)
    np.save(x_path, x)
    print(f"wrote {net_path} and {x_path}")


if __name__ == "__main__":
    main()
