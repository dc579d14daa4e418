"""NIR import and export: models from snnTorch, Norse, SpikingJelly, Sinabs, Lava.

NIR (the Neuromorphic Intermediate Representation, PyPI ``nir``) describes
neurons in continuous time. snnhw computes in discrete steps (docs/arithmetic.md), so a
step length ``dt`` turns one into the other, with the forward-Euler rule the
NIR producers use (snnTorch: ``beta = 1 - dt / tau``, default ``dt = 1e-4``).

Accepted graphs: one ``Input``, one ``Output``, and between them a
feed-forward chain ``(Affine | Linear) -> (LIF | IF | CubaLIF)`` repeated,
optionally ending with a last ``Affine | Linear`` (read out as the membrane
charge, docs/arithmetic.md readout ``membrane``; a chain ending with a neuron is read
out as spike counts). Convolutional chains (``Conv1d``, ``Conv2d``, ``SumPool2d``,
``AvgPool2d``, ``Flatten``) become a :class:`~snnhw.nn.conv.SpikingConvNet`; their
extra rules are in :mod:`snnhw.nn.nirconv`. Per neuron, with ``a = dt / tau``:

====================  ==========================================================
NIR                   snnhw
====================  ==========================================================
``LIF.tau``           leak ``1 - a`` must be ``1 - 2**-L`` (L an integer shift)
                      within :data:`LEAK_TOLERANCE`, the same in the whole layer;
                      ``a = 0`` (``tau = inf``) is IF (no leak)
``LIF.r``             input scale ``r * a``, folded into the layer's weights
                      (``tau = r = inf``, snnTorch's ``beta = 1``: scale 1, the
                      limit of its ``r = tau / dt``)
``LIF.v_leak``        a constant charge ``v_leak * a`` per step, folded into the bias
``LIF.v_threshold``   each neuron's weights and bias are divided by its threshold,
                      so that snnhw's threshold is 1 (``theta = 2**k`` after export)
``LIF.v_reset``       must be 0 (snnhw resets to 0, or subtracts the threshold)
``IF.r``              input scale ``r * dt``
``CubaLIF``           only with ``tau_syn == dt`` (no synaptic memory; ``1 - dt /
                      tau_syn`` within the tolerance of 0): input scale
                      ``w_in * r * dt / tau_mem``; else refused
====================  ==========================================================

NIR does not record how a neuron resets: its equations reset to
``v_reset``, while snnTorch writes the same ``LIF`` node for a ``Leaky``
with ``reset_mechanism="subtract"``. ``reset="soft"`` (the default,
subtract the threshold) or ``"hard"`` (to zero) says which is meant. NIR
fires on ``v > v_threshold``; snnhw on ``v >= threshold``: they differ only
when a membrane lands exactly on the threshold.

:data:`LEAK_TOLERANCE`: a leak that is ``1 - 2**-L`` up to float32 rounding
is accepted (snnTorch stores ``tau = dt / (1 - beta)`` in float32, which moves
``beta`` by about 1e-7); anything further is a different neuron that a shift
cannot compute, and the import refuses it naming the node, instead of
changing the network silently.

Export writes a binary-spike snnhw model (``spike_bits=1``, ``fire="floor"``)
as the same kind of chain: ``Affine`` (the first one with the input scale
folded in) and ``LIF`` (``IF`` without leak), ``dt`` as above. Multi-bit
spikes and the ``half`` firing rule have no NIR equivalent and are refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..ir.schema import MAX_TIMESTEPS
from ..util import printable
from .conv import SpikingConvNet
from .folded import fold_input
from .model import SpikingMLP
from .nirconv import CONV_NODES, conv_to_nir, from_conv_chain
from .nirnodes import (
    DEFAULT_DT,
    LEAK_TOLERANCE,
    NEURONS,
    WEIGHTS,
    NIRError,
    _neuron,
    _weights,
    fold_neuron,
)
from .nirrec import _feedback, recurrent_model

__all__ = ["from_nir", "to_nir", "read_graph", "write_graph", "NIRError", "DEFAULT_DT",
           "LEAK_TOLERANCE"]

def _nir():
    try:
        import nir
    except ImportError:
        raise NIRError("NIR support needs the 'nir' package (pip install nir)") from None
    return nir


MAX_GRAPH_BYTES = 1 << 30    # a NIR file's datasets together, as their headers declare them
MAX_GRAPH_OBJECTS = 1 << 16  # groups, datasets and attributes


def check_sizes(path: Path) -> None:
    """Refuse an HDF5 file that with its datasets and attributes would take more than
    :data:`MAX_GRAPH_BYTES` once read (a few kilobytes of compressed chunks can declare
    terabytes), or that holds more than :data:`MAX_GRAPH_OBJECTS` objects, from its
    headers alone."""
    import h5py

    def size(shape, dtype) -> int:
        count = 1
        for dim in shape or ():
            count *= int(dim)
        return count * max(dtype.itemsize, 1)

    total, objects = path.stat().st_size, 0

    def visit(name, obj):
        nonlocal total, objects
        objects += 1 + len(obj.attrs)
        if objects > MAX_GRAPH_OBJECTS:
            return name       # stop the walk
        for key in obj.attrs:
            attr = obj.attrs.get_id(key)
            total += size(attr.shape, attr.dtype)
        if isinstance(obj, h5py.Dataset):
            total += size(obj.shape, obj.dtype)
        return name if total > MAX_GRAPH_BYTES else None

    try:
        with h5py.File(path, "r") as f:
            stopped = visit("/", f) or f.visititems(visit)
    except Exception as exc:  # h5py raises many kinds for a file that is not HDF5
        raise NIRError(f"{path}: not a readable NIR graph ({type(exc).__name__}: {exc})") \
            from None
    if total > MAX_GRAPH_BYTES:
        raise NIRError(f"{path}: its data declare more than {MAX_GRAPH_BYTES:,} bytes "
                       f"(at {printable(stopped)}); a NIR graph snnhw imports holds less")
    if objects > MAX_GRAPH_OBJECTS:
        raise NIRError(f"{path}: more than {MAX_GRAPH_OBJECTS:,} groups, datasets and "
                       "attributes; a NIR graph snnhw imports holds fewer")


def read_graph(path: str | Path):
    """``nir.read`` with a clear error for a missing or unreadable file, after
    :func:`check_sizes`."""
    nir = _nir()
    path = Path(path)
    if not path.exists():
        raise NIRError(f"no such NIR file: {path}")
    if not path.is_file():
        raise NIRError(f"{path}: not a regular file")
    check_sizes(path)
    try:
        try:
            return nir.read(str(path))
        except ValueError as exc:
            if "Type inference error" not in str(exc):
                raise
            # NIR 1.0.8 infers a Conv2d's output from its kernel height alone, so a
            # non-square kernel gets a wrong type; the import checks every shape itself
            return nir.read(str(path), type_check=False)
    except Exception as exc:  # h5py and nir raise many kinds
        raise NIRError(f"{path}: not a readable NIR graph ({type(exc).__name__}: {exc})") \
            from None


def write_graph(path: str | Path, graph) -> Path:
    """``nir.write`` (HDF5), atomically: an existing file is replaced only by a complete
    new one."""
    from ..util import atomic_path

    with atomic_path(path) as tmp:
        _nir().write(str(tmp), graph)
    return Path(path)


# ------------------------------------------------------------------------------- import
def _flatten(graph):
    """``(nodes, edges)`` with every ``NIRGraph`` node (a subgraph, as some producers
    write a recurrent layer) inlined: its nodes named ``<subgraph>.<node>``, the edges
    into it going to its ``Input``'s successors and those out of it leaving from its
    ``Output``'s predecessors."""
    nodes, edges = dict(graph.nodes), list(graph.edges)
    while True:
        sub = next((k for k, n in nodes.items() if type(n).__name__ == "NIRGraph"), None)
        if sub is None:
            return nodes, edges
        inner_nodes, inner_edges = _flatten(nodes.pop(sub))
        kinds = {k: type(n).__name__ for k, n in inner_nodes.items()}
        ins = [k for k, t in kinds.items() if t == "Input"]
        outs = [k for k, t in kinds.items() if t == "Output"]
        if len(ins) != 1 or len(outs) != 1:
            raise NIRError(f"subgraph {sub!r} needs exactly one Input and one Output node")
        entry = [f"{sub}.{b}" for a, b in inner_edges if a == ins[0]]
        leave = [f"{sub}.{a}" for a, b in inner_edges if b == outs[0]]
        for k, n in inner_nodes.items():
            if k not in (ins[0], outs[0]):
                nodes[f"{sub}.{k}"] = n
        new = [(f"{sub}.{a}", f"{sub}.{b}") for a, b in inner_edges
               if a != ins[0] and b != outs[0]]
        for a, b in edges:
            srcs = leave if a == sub else [a]
            dsts = entry if b == sub else [b]
            new += [(x, y) for x in srcs for y in dsts]
        edges = new


def _chain(graph) -> tuple[list[tuple[str, object]], dict]:
    """The nodes from Input to Output in order, and ``{neuron: (name, node)}``: the
    ``Affine``/``Linear`` node through which a neuron's output reaches its own input
    (docs/arithmetic.md, "Recurrence": snnTorch's ``RLeaky``). Refuses anything but one
    simple path with such loops, naming the nodes."""
    nodes, edges = _flatten(graph)
    succ: dict[str, list[str]] = {k: [] for k in nodes}
    pred: dict[str, list[str]] = {k: [] for k in nodes}
    for a, b in edges:
        for k in (a, b):
            if k not in nodes:
                raise NIRError(f"edge {a!r} -> {b!r} names no node {k!r}")
        succ[a].append(b)
        pred[b].append(a)
    kinds = {k: type(n).__name__ for k, n in nodes.items()}
    feedback = {}
    for k, kind in kinds.items():       # neuron -> weights -> the same neuron
        loops = [p for p in pred[k] if kind in NEURONS and kinds[p] in WEIGHTS
                 and pred[p] == [k] and succ[p] == [k]]
        if len(loops) > 1:
            raise NIRError(f"neuron {k!r} feeds back through {len(loops)} nodes "
                           f"({', '.join(loops)}); one recurrent weight node is supported")
        for p in loops:
            feedback[k] = (p, nodes[p])
            pred[k].remove(p)
            succ[k].remove(p)
            pred[p], succ[p] = [], []
    cycle = _cycle(succ)
    if cycle:
        raise NIRError(f"the graph has a cycle through {', '.join(cycle)}: the only cycle "
                       "snnhw takes is a neuron's output back to its own input through one "
                       "Affine/Linear node (a recurrent layer)")
    inputs = [k for k, t in kinds.items() if t == "Input"]
    outputs = [k for k, t in kinds.items() if t == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise NIRError(f"a graph needs exactly one Input and one Output node, got "
                       f"{len(inputs)} and {len(outputs)}")
    chain, seen, k = [], set(), inputs[0]
    while True:
        seen.add(k)
        if len(pred[k]) > 1:
            raise NIRError(f"node {k!r} ({kinds[k]}) has {len(pred[k])} inputs "
                           f"({', '.join(pred[k])}): merging branches are not supported (a "
                           "neuron's own feedback through one Affine/Linear node is)")
        chain.append((k, nodes[k]))
        if k == outputs[0]:
            break
        if len(succ[k]) != 1:
            raise NIRError(f"node {k!r} ({kinds[k]}) has {len(succ[k])} outputs: only a "
                           "single feed-forward chain from Input to Output is supported")
        k = succ[k][0]
    loops = {p for p, _ in feedback.values()}
    if len(seen) + len(loops) != len(nodes):
        extra = sorted(set(nodes) - seen - loops)
        raise NIRError(f"nodes {extra} are not on the path from Input to Output")
    return chain, feedback


def _cycle(succ: dict[str, list[str]]) -> list[str]:
    """The nodes of one cycle of the graph ``succ`` in order (empty if it has none)."""
    state: dict[str, int] = {}     # 1: on the current path, 2: done
    for root in sorted(succ):
        if root in state:
            continue
        path, stack = [], [(root, iter(succ[root]))]
        state[root] = 1
        path.append(root)
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(nxt) == 1:
                return path[path.index(nxt):]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(succ[nxt])))
    return []


def _port_size(node, attr: str):
    """The number of values a NIR ``Input``/``Output`` node declares (``None``: not
    declared)."""
    types = getattr(node, attr, None)
    if not isinstance(types, dict) or not types:
        return None
    try:
        shape = np.asarray(next(iter(types.values()))).reshape(-1)
        return int(np.prod(shape)) if shape.size and (shape > 0).all() else None
    except (TypeError, ValueError):
        return None


def _check_ports(chain, n_in: int, n_out: int) -> None:
    """The graph's ``Input`` and ``Output`` sizes (where declared) against its first and
    last layers (a :class:`NIRError` naming the node)."""
    for (name, node), attr, want, what in ((chain[0], "input_type", n_in, "first layer takes"),
                                           (chain[-1], "output_type", n_out,
                                            "last layer gives")):
        got = _port_size(node, attr)
        if got is not None and got != want:
            raise NIRError(f"node {name!r} ({type(node).__name__}) declares {got} values; the "
                           f"{what} {want}")


def _meta(meta: dict, key: str, default, kind, lo=None, hi=None):
    """One value of a graph's metadata (HDF5 gives numpy scalars or one-element arrays):
    an integer in ``lo..hi``, a finite float in ``(lo, hi]``, or a string; anything else is
    a :class:`NIRError` naming the key."""
    if key not in meta:
        return default
    raw = meta[key]
    what = {int: "an integer", float: "a number", str: "a string"}[kind]
    try:
        a = np.asarray(raw)
        ok = a.size == 1 and a.dtype.kind in ("iuf" if kind is not str else "USO")
        v = a.reshape(()).item() if ok else None
    except (TypeError, ValueError):
        ok, v = False, None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if not ok or isinstance(v, bool) or (kind is str) != isinstance(v, str):
        raise NIRError(f"metadata {key}: expected {what}, got "
                       f"{printable(repr(raw))[:60]}")
    if kind is int:
        if not float(v).is_integer() or not lo <= v <= hi:
            raise NIRError(f"metadata {key}: expected an integer in {lo}..{hi}, got {v!r}")
        return int(v)
    if kind is float:
        if not (np.isfinite(v) and lo < v <= hi):
            raise NIRError(f"metadata {key}: expected a finite number in ({lo:g}, {hi:g}], "
                           f"got {v!r}")
        return float(v)
    return v


def from_nir(graph, *, timesteps: int | None = None, in_bits: int | None = None,
             dt: float | None = None, reset: str | None = None,
             tol: float = LEAK_TOLERANCE) -> SpikingMLP:
    """A float :class:`~snnhw.nn.model.SpikingMLP` computing the NIR ``graph`` (or the
    path of a ``.nir`` file) in steps of ``dt``; binary spikes, threshold 1.

    ``timesteps`` (4), ``in_bits`` (the width of the integer input values; 1 for
    spike trains), ``dt`` (:data:`DEFAULT_DT`) and ``reset`` (``"soft"``) default to
    what a graph written by :func:`to_nir` records, else to the values given. The
    NIR input is used unscaled (``in_scale = 1``) unless :func:`to_nir` recorded
    the input scale.
    """
    if isinstance(graph, str | Path):
        graph = read_graph(graph)
    meta = getattr(graph, "metadata", None) or {}
    if not isinstance(meta, dict):
        raise NIRError(f"the graph's metadata must be a mapping, got {type(meta).__name__}")
    timesteps = (_meta(meta, "snnhw_timesteps", 4, int, 1, MAX_TIMESTEPS)
                 if timesteps is None else timesteps)
    in_bits = _meta(meta, "snnhw_in_bits", 1, int, 1, 16) if in_bits is None else in_bits
    dt = _meta(meta, "snnhw_dt", DEFAULT_DT, float, 0.0, 1.0) if dt is None else dt
    reset = _meta(meta, "snnhw_reset", "soft", str) if reset is None else reset
    if not dt > 0:
        raise NIRError(f"dt must be positive, got {dt!r}")
    if reset not in ("soft", "hard"):
        raise NIRError(f"reset must be 'soft' or 'hard', got {reset!r}")
    chain, feedback = _chain(graph)
    if any(type(node).__name__ in CONV_NODES for _, node in chain):
        if feedback:
            raise NIRError(f"recurrent neurons ({', '.join(feedback)}) in a convolutional "
                           "graph: snnhw's recurrent layers are dense")
        return from_conv_chain(chain, timesteps=timesteps, in_bits=in_bits,
                               in_scale=_meta(meta, "snnhw_in_scale", 1.0, float, 0.0,
                                              1e6), dt=dt,
                               reset=reset, tol=tol)
    body = chain[1:-1]
    layers: list[dict] = []
    for name, node in body:
        kind = type(node).__name__
        if kind in WEIGHTS:
            if layers and layers[-1]["neuron"] is None:
                raise NIRError(f"node {name!r}: two weight layers in a row (after "
                               f"{layers[-1]['name']!r}) with no neuron between them")
            W, b = _weights(name, node)
            if layers and W.shape[1] != layers[-1]["W"].shape[0]:
                raise NIRError(f"node {name!r}: takes {W.shape[1]} inputs, the layer before "
                               f"gives {layers[-1]['W'].shape[0]}")
            layers.append({"name": name, "W": W, "b": b, "neuron": None})
        elif kind in NEURONS:
            if not layers or layers[-1]["neuron"] is not None:
                raise NIRError(f"node {name!r} ({kind}) has no Affine/Linear node before it; "
                               "snnhw neurons take their charge from a dense layer")
            layers[-1]["neuron"] = _neuron(name, node, layers[-1]["W"].shape[0], dt, tol)
            layers[-1]["neuron_name"] = name
            if name in feedback:
                layers[-1]["R"] = _feedback(name, *feedback[name], layers[-1]["W"].shape[0])
        else:
            raise NIRError(f"node {name!r}: {kind} nodes are not supported (snnhw takes "
                           f"{', '.join(WEIGHTS)}, {', '.join(CONV_NODES)} and "
                           f"{', '.join(NEURONS)} in a chain)")
    if not layers:
        raise NIRError("the graph has no Affine/Linear layer")
    for ly in layers[:-1]:
        if ly["neuron"] is None:
            raise NIRError(f"node {ly['name']!r}: a hidden weight layer needs a neuron after it")
    readout = "spikes" if layers[-1]["neuron"] is not None else "membrane"
    _check_ports(chain, layers[0]["W"].shape[1], layers[-1]["W"].shape[0])
    in_scale = _meta(meta, "snnhw_in_scale", 1.0, float, 0.0, 1e6)
    if feedback:
        return recurrent_model(layers, timesteps=timesteps, in_bits=in_bits,
                               in_scale=in_scale, readout=readout, reset=reset)
    sizes = [layers[0]["W"].shape[1]] + [ly["W"].shape[0] for ly in layers]
    model = SpikingMLP(sizes, timesteps=timesteps, in_bits=in_bits, in_scale=in_scale,
                       readout=readout, spike_bits=1, fire="floor", reset=reset, mpr=False,
                       leak_shifts=[ly["neuron"]["leak_shift"] for ly in layers
                                               if ly["neuron"] is not None])
    with torch.no_grad():
        for i, ly in enumerate(layers):
            W, b, _ = fold_neuron(ly, i == 0, in_scale)
            model.fc[i].weight.copy_(torch.as_tensor(W, dtype=torch.float32))
            model.fc[i].bias.copy_(torch.as_tensor(b, dtype=torch.float32))
    return model.eval()


# ------------------------------------------------------------------------------- export
def to_nir(model, *, dt: float = DEFAULT_DT):
    """The NIR graph of a binary-spike ``model`` (see the module docstring)."""
    nir = _nir()
    cfg = model.config
    if cfg.get("spike_bits", 1) != 1:
        raise NIRError(f"NIR neurons emit binary spikes; this model has spike_bits="
                       f"{cfg['spike_bits']}")
    if cfg.get("fire", "half") != "floor":
        raise NIRError("NIR neurons fire at the threshold; this model fires at half of it "
                       "(fire='half'); train with fire='floor' to export to NIR")
    meta = {"snnhw_in_scale": 1.0 if model.normalised else float(model.in_scale),
            "snnhw_in_bits": int(model.in_bits), "snnhw_reset": cfg.get("reset", "soft"),
            "snnhw_timesteps": int(model.timesteps), "snnhw_dt": float(dt)}
    if isinstance(model, SpikingConvNet):
        nodes, edges = conv_to_nir(model, nir, dt)
        square = all(n.weight.shape[2] == n.weight.shape[3] for n in nodes.values()
                     if type(n).__name__ == "Conv2d")
        # NIR 1.0.8 types a Conv2d by its kernel height alone: a non-square kernel's graph
        # is written without its type check (read_graph reads it the same way)
        return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=square)
    theta = float(cfg.get("theta", 1.0))
    nodes = {"input": nir.Input(input_type=np.array([cfg["sizes"][0]]))}
    edges, prev = [], "input"
    for i, (W, b) in enumerate(fold_input(model)):  # layer 0 per raw input unit
        W, b = W.numpy(), b.numpy()
        name = f"fc{i}"
        nodes[name] = nir.Affine(weight=W.astype(np.float32), bias=b.astype(np.float32))
        edges.append((prev, name))
        prev = name
        if i < len(model.lif):
            lif = model.lif[i]
            n = W.shape[0]
            thr = np.full(n, theta, dtype=np.float32)
            zero = np.zeros(n, dtype=np.float32)
            name = f"lif{i}"
            if lif.leak_shift is None:
                nodes[name] = nir.IF(r=np.full(n, 1 / dt, dtype=np.float32), v_threshold=thr,
                                     v_reset=zero)
            else:
                tau = dt * 2.0 ** lif.leak_shift
                nodes[name] = nir.LIF(tau=np.full(n, tau, dtype=np.float32),
                                      r=np.full(n, tau / dt, dtype=np.float32),
                                      v_leak=zero, v_threshold=thr, v_reset=zero)
            edges.append((prev, name))
            prev = name
    nodes["output"] = nir.Output(output_type=np.array([cfg["sizes"][-1]]))
    edges.append((prev, "output"))
    # the reader divides layer 0 by the recorded input scale again (a normalised input is
    # folded for good: scale 1)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)
