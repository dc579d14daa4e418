"""NIR import and export of convolutional chains (:mod:`snnhw.nn.nirio` for the rules).

Accepted between ``Input`` and ``Output``, in a feed-forward chain:
``(Conv1d | Conv2d) -> neuron``, optionally followed by ``SumPool2d`` or
``AvgPool2d`` (window = stride, no padding, dividing the map evenly: the pool
is folded into the next layer at export), then ``Flatten`` (of the whole map)
and ``(Affine | Linear) -> neuron`` layers as for the MLP; the last weight layer
must be dense. Convs take ``groups = 1`` and ``dilation = 1`` only, and integer
padding. The input map comes from the ``Input`` node's type (``C, H, W``; ``C, L``
for a 1-D signal) or, for a flat input, from the first conv's ``input_shape``.

A conv layer shares its weights over the map, so each neuron parameter that is
folded into the weights (input scale, threshold, constant charge) must be the
same for every position of a channel; one that is not is refused, naming the
node, instead of averaged. Max pooling has no NIR node; anything else is
refused as for the MLP.

Export writes a :class:`~snnhw.nn.conv.SpikingConvNet` the same way:
``Conv2d`` (a 1-D map as ``C x 1 x L``, so that one pool node type fits every
map), ``LIF``/``IF`` with per-neuron parameters shaped like the output map, a
pool as ``SumPool2d`` (an average pool's ``1/(PH*PW)`` is written into the next
layer's weights), ``Flatten`` before the first dense layer, ``Affine``.
"""

from __future__ import annotations

import numpy as np
import torch

from .conv import ArchError, SpikingConvNet, plan_arch
from .kinds import conv as conv_kind
from .kinds import dense as dense_kind
from .kinds import kind as layer_kind
from .nirnodes import NEURONS, WEIGHTS, NIRError, _neuron, _weights

__all__ = ["CONV_NODES", "from_conv_chain", "conv_to_nir"]

CONV_NODES = ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten")


def _pair(name: str, param: str, value, lo: int) -> tuple[int, int]:
    if isinstance(value, str):
        raise NIRError(f"node {name!r}: {param} = {value!r}; only integer values are supported")
    arr = np.asarray(value).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, 2)
    if arr.size != 2 or not np.all(np.equal(np.mod(arr, 1), 0)) or arr.min() < lo:
        raise NIRError(f"node {name!r}: {param} = {np.asarray(value).tolist()} is not one or two "
                   f"integers >= {lo}")
    return int(arr[0]), int(arr[1])


def _input_map(graph_input, first_conv) -> tuple[int, int, int] | None:
    shape = np.asarray(graph_input.input_type.get("input", [])).reshape(-1)
    if shape.size == 3:
        return tuple(int(v) for v in shape)
    if shape.size == 2:
        return int(shape[0]), 1, int(shape[1])
    name, node = first_conv
    c_in = int(np.asarray(node.weight).shape[1])
    given = getattr(node, "input_shape", None)
    if given is None:
        return None
    hw = np.asarray(given).reshape(-1)
    mp = (c_in, 1, int(hw[0])) if type(node).__name__ == "Conv1d" else (c_in, int(hw[0]),
                                                                       int(hw[1]))
    if shape.size == 1 and int(shape[0]) != mp[0] * mp[1] * mp[2]:
        raise NIRError(f"node {name!r}: input_shape {hw.tolist()} with {c_in} channels does not "
                   f"match the Input's {int(shape[0])} values")
    return mp


def _per_channel(name: str, param: str, arr: np.ndarray, channels: int, tol: float) -> np.ndarray:
    rows = arr.reshape(channels, -1)
    spread = np.ptp(rows, axis=1)
    if np.any(spread > tol * np.maximum(1.0, np.abs(rows).max(axis=1))):
        c = int(np.argmax(spread))
        raise NIRError(f"node {name!r}: {param} differs between positions of channel {c} "
                   f"({rows[c].min():.6g} .. {rows[c].max():.6g}); a conv layer shares its "
                   "weights over the map, so it must be one value per channel")
    return rows[:, 0].copy()


def from_conv_chain(chain, *, timesteps: int, in_bits: int, in_scale: float, dt: float,
                    reset: str, tol: float) -> SpikingConvNet:
    """The float CNN of a convolutional NIR chain (``chain`` from ``nirio._chain``)."""
    body = chain[1:-1]
    first_conv = next((n for n in body if type(n[1]).__name__ in ("Conv1d", "Conv2d")), None)
    if first_conv is None:
        name, node = next(n for n in body if type(n[1]).__name__ in CONV_NODES)
        raise NIRError(f"node {name!r}: {type(node).__name__} with no Conv1d/Conv2d in the graph: "
                       "pools and Flatten belong to convolutional graphs")
    shape = _input_map(chain[0][1], first_conv)
    if shape is None:
        raise NIRError("the Input node gives no map shape (C, H, W) and the first conv no "
                       "input_shape: a conv needs to know its map")
    walk = _ChainWalk(shape, dt, tol)
    for name, node in body:
        walk.take(name, node)
    layers = walk.finish()
    readout = "spikes" if layers[-1]["neuron"] is not None else "membrane"
    model = SpikingConvNet(walk.tokens[:-1], in_shape=shape, n_classes=layers[-1]["n"],
                           timesteps=timesteps, in_bits=in_bits, in_scale=in_scale,
                           readout=readout, spike_bits=1, fire="floor", reset=reset, mpr=False,
                           leak_shifts=[ly["neuron"]["leak_shift"] for ly in layers
                                        if ly["neuron"] is not None])
    _copy_weights(model, layers, in_scale, tol)
    return model.eval()


class _ChainWalk:
    """The chain's nodes in order, into ``--arch`` tokens (:func:`plan_arch` checks every
    map) and weight layers with their neurons."""

    def __init__(self, in_shape, dt: float, tol: float):
        self.in_shape, self.shape, self.dt, self.tol = in_shape, in_shape, dt, tol
        self.tokens, self.layers, self.flat = [], [], False

    def take(self, name: str, node) -> None:
        kind = type(node).__name__
        if kind in ("Conv1d", "Conv2d", *WEIGHTS) and self.layers \
                and self.layers[-1]["neuron"] is None:
            raise NIRError(f"node {name!r}: two weight layers in a row (after "
                           f"{self.layers[-1]['name']!r}) with no neuron between them")
        if kind in ("Conv1d", "Conv2d"):
            self.conv(name, node, kind)
        elif kind in ("SumPool2d", "AvgPool2d"):
            self.pool(name, node, kind)
        elif kind == "Flatten":
            start, end = int(node.start_dim), int(node.end_dim)
            if self.shape is None or start != 0 or end not in (-1, 2):
                raise NIRError(f"node {name!r}: Flatten({start}, {end}); only the whole map "
                               "(start_dim 0, end_dim -1, unbatched) flattens, channel-major")
            self.flat = True
        elif kind in WEIGHTS:
            self.affine(name, node)
        elif kind in NEURONS:
            if not self.layers or self.layers[-1]["neuron"] is not None:
                raise NIRError(f"node {name!r} ({kind}) has no weight node before it")
            self.layers[-1]["neuron"] = _neuron(name, node, self.layers[-1]["n"], self.dt,
                                                self.tol)
            self.layers[-1]["neuron_name"] = name
        else:
            raise NIRError(f"node {name!r}: {kind} nodes are not supported (snnhw takes Conv1d, "
                           "Conv2d, SumPool2d, AvgPool2d, Flatten, Affine, Linear, LIF, IF, "
                           "CubaLIF in a chain)")

    def _plan(self, name: str) -> list[dict]:
        try:
            return plan_arch(self.tokens, self.in_shape, 1)
        except ArchError as exc:
            raise NIRError(f"node {name!r}: {str(exc).removeprefix('--arch: ')}") from None

    def conv(self, name: str, node, kind: str) -> None:
        if self.flat or self.shape is None:
            raise NIRError(f"node {name!r}: a conv after a flattened map")
        if int(getattr(node, "groups", 1)) != 1:
            raise NIRError(f"node {name!r}: groups = {node.groups}; only groups = 1")
        W = np.asarray(node.weight, dtype=np.float64)
        if W.ndim != (3 if kind == "Conv1d" else 4):
            raise NIRError(f"node {name!r}: weight has shape {W.shape}")
        if kind == "Conv1d":
            W = W[:, :, None, :]
            stride = (1, _pair(name, "stride", node.stride, 1)[1])
            padding = (0, _pair(name, "padding", node.padding, 0)[1])
            dilation = (1, _pair(name, "dilation", node.dilation, 1)[1])
        else:
            stride, padding = _pair(name, "stride", node.stride, 1), _pair(
                name, "padding", node.padding, 0)
            dilation = _pair(name, "dilation", node.dilation, 1)
        if dilation != (1, 1):
            raise NIRError(f"node {name!r}: dilation {dilation}; only 1 is supported")
        if W.shape[1] != self.shape[0]:
            raise NIRError(f"node {name!r}: takes {W.shape[1]} channels, its map has "
                           f"{self.shape[0]}")
        b = np.asarray(node.bias, dtype=np.float64).reshape(-1) if getattr(
            node, "bias", None) is not None else np.zeros(W.shape[0])
        if b.size != W.shape[0] or not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise NIRError(f"node {name!r}: bias must have {W.shape[0]} finite values, and the "
                           "weights be finite")
        (KH, KW), (SH, SW), (PH, PW) = W.shape[2:], stride, padding
        self.tokens.append(f"c{W.shape[0]}k{KH}x{KW}s{SH}x{SW}p{PH}x{PW}")
        self.shape = self._plan(name)[-2]["out_shape"]
        self.layers.append({"name": name, "kind": conv_kind.NAME, "W": W, "b": b,
                            "neuron": None, "n": int(np.prod(self.shape)),
                            "channels": int(W.shape[0])})

    def pool(self, name: str, node, kind: str) -> None:
        last = self.layers[-1] if self.layers else None
        if last is None or not layer_kind(last["kind"]).MAP_OUT or last["neuron"] is None \
                or self.flat or self.tokens[-1][0] != "c":
            raise NIRError(f"node {name!r} ({kind}) must follow a conv layer's neuron")
        kernel = _pair(name, "kernel_size", node.kernel_size, 1)
        stride = kernel if node.stride is None else _pair(name, "stride", node.stride, 1)
        if stride != kernel or _pair(name, "padding", node.padding, 0) != (0, 0):
            raise NIRError(f"node {name!r}: only pools whose stride equals the window and "
                           "without padding fold into the next layer")
        self.tokens.append(f"{'ap' if kind == 'AvgPool2d' else 'sp'}{kernel[0]}x{kernel[1]}")
        self._plan(name)
        self.shape = (self.shape[0], self.shape[1] // kernel[0], self.shape[2] // kernel[1])

    def affine(self, name: str, node) -> None:
        W, b = _weights(name, node)
        n_in = int(np.prod(self.shape)) if self.shape is not None else self.layers[-1]["n"]
        if W.shape[1] != n_in:
            raise NIRError(f"node {name!r}: takes {W.shape[1]} inputs, the layer before gives "
                           f"{n_in}")
        self.tokens.append(f"d{W.shape[0]}")
        self.layers.append({"name": name, "kind": dense_kind.NAME, "W": W, "b": b,
                            "neuron": None, "n": int(W.shape[0]), "channels": int(W.shape[0])})
        self.shape, self.flat = None, False

    def finish(self) -> list[dict]:
        """The weight layers, once the chain ends as a network must."""
        if not self.layers or layer_kind(self.layers[-1]["kind"]).MAP_OUT:
            raise NIRError("the last weight layer of a convolutional graph must be "
                           "Affine/Linear")
        for ly in self.layers[:-1]:
            if ly["neuron"] is None:
                raise NIRError(f"node {ly['name']!r}: a hidden weight layer needs a neuron "
                               "after it")
        return self.layers


def _copy_weights(model: SpikingConvNet, layers: list[dict], in_scale: float,
                  tol: float) -> None:
    """Each layer's weights and bias into the model, in units of its threshold (the
    neuron's per-channel input scale, leak charge and threshold folded in)."""
    with torch.no_grad():
        for i, (ly, op) in enumerate(zip(layers, model.ops)):
            W, b = ly["W"], ly["b"]
            if i == 0:
                W = W / in_scale
            nr = ly["neuron"]
            if nr is not None:
                c = ly["channels"]
                scale, charge, theta = (_per_channel(ly["neuron_name"], p, nr[k], c, tol)
                                        for p, k in (
                    ("the input scale r*dt/tau", "scale"), ("v_leak", "charge"),
                    ("v_threshold", "theta")))
                W = W * (scale / theta).reshape(-1, *([1] * (W.ndim - 1)))
                b = (b * scale + charge) / theta
            op.weight.copy_(torch.as_tensor(W.reshape(op.weight.shape), dtype=torch.float32))
            op.bias.copy_(torch.as_tensor(b, dtype=torch.float32))


def conv_to_nir(model: SpikingConvNet, nir, dt: float) -> tuple[dict, list]:
    """Nodes and edges of ``model`` (binary spikes, ``fire="floor"``: checked by the caller)."""
    theta = float(model.config.get("theta", 1.0))
    # the input as the first layer reads it: a map for a conv layer, flat for a dense one
    first = layer_kind(model.plan[0]["kind"]).shape_input(torch.zeros(1, *model.in_shape))
    nodes = {"input": nir.Input(input_type=np.array(first.shape[1:]))}
    edges, prev = [], "input"

    def add(name, node):
        nonlocal prev
        nodes[name] = node
        edges.append((prev, name))
        prev = name

    for i, fl in enumerate(model.float_layers()):
        if fl.pool != (1, 1):
            add(f"pool{i}", nir.SumPool2d(kernel_size=np.array(fl.pool),
                                          stride=np.array(fl.pool), padding=np.array([0, 0])))
        after_map = i > 0 and layer_kind(model.plan[i - 1]["kind"]).MAP_OUT
        out = layer_kind(fl.kind).nir_nodes(add, nir, i, fl, model, after_map)
        if i < len(model.lif):
            lif = model.lif[i]
            thr = np.full(out, theta, dtype=np.float32)
            zero = np.zeros(out, dtype=np.float32)
            if lif.leak_shift is None:
                add(f"lif{i}", nir.IF(r=np.full(out, 1 / dt, dtype=np.float32), v_threshold=thr,
                                      v_reset=zero))
            else:
                tau = dt * 2.0 ** lif.leak_shift
                add(f"lif{i}", nir.LIF(tau=np.full(out, tau, dtype=np.float32),
                                       r=np.full(out, tau / dt, dtype=np.float32), v_leak=zero,
                                       v_threshold=thr, v_reset=zero))
            if fl.R is not None:    # a recurrent layer: the neuron back to itself
                nodes[f"rec{i}"] = nir.Linear(weight=fl.R.numpy().astype(np.float32))
                edges += [(f"lif{i}", f"rec{i}"), (f"rec{i}", f"lif{i}")]
    nodes["output"] = nir.Output(output_type=np.array([model.plan[-1]["n_out"]]))
    edges.append((prev, "output"))
    return nodes, edges
