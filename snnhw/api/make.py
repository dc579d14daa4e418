"""Where a :class:`~snnhw.api.Model` comes from: an IR file, a NIR graph, a checkpoint, a
torch model, or training and conversion here."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from .inputs import check_fits
from .model import Model, write_nir
from .report import Report

__all__ = ["Trained", "convert", "float_from_nir", "from_checkpoint", "from_nir", "from_torch",
           "load", "open_checkpoint", "train", "train_config", "widths"]


class Trained(Report):
    """A trained float model (:attr:`model`, a torch module) and its report (accuracies,
    sizes, time). :meth:`save` writes the checkpoint, :meth:`export` quantises it to a
    :class:`~snnhw.api.Model`."""

    def __init__(self, kind: str, data: dict, model, *, history: dict | None = None,
                 train_config=None, data_spec: str | None = None):
        super().__init__(kind, data)
        self.model, self.history = model, history
        self._train_config, self._data_spec = train_config, data_spec

    def save(self, path) -> Path:
        """Write the checkpoint (``snnhw train -o`` / ``snnhw convert -o``); it remembers
        the data set it was made for."""
        from ..nn.train import save_checkpoint

        return save_checkpoint(path, self.model, self.history, self._train_config,
                               data=self._data_spec)

    def check_data(self, data) -> None:
        """An :class:`~snnhw.errors.InputError` when the test split of ``data`` (a
        :class:`~snnhw.data.Dataset`) does not fit the model."""
        check_fits(self.model.config, data)

    def save_nir(self, path, *, dt: float | None = None) -> Report:
        """Write the model as a NIR file (``snnhw export --nir``): a report of the
        nodes and edges ``nir.read`` finds in it."""
        return write_nir(self.model, path, dt=dt)

    def export(self, *, w_bits: int | Sequence[int] | None = None, u_bits: int | None = None,
               name: str = ""):
        """The model quantised to the IR (:func:`~snnhw.api.from_torch`; ``w_bits`` one
        width or one per layer; widths default to those it was trained for with QAT, else
        8 and 16); ``data`` of the result is the data set it was trained on."""
        m = from_torch(self.model, w_bits=w_bits, u_bits=u_bits, name=name)
        m.data = self._data_spec
        return m


def load(path) -> Model:
    """An IR file (``.snn``, from ``snnhw export`` / ``import`` or :meth:`Model.save`)."""
    from ..ir import load as load_ir

    return Model(load_ir(path))


def widths(model, w_bits: int | Sequence[int] | None = None, u_bits: int | None = None
           ) -> tuple[int | Sequence[int], int]:
    """The export widths of ``model`` (weights: one width, or one per layer): those
    given, else the ones it was trained for with quantisation-aware training
    (``model.config["qat"]``), else 8 and 16."""
    qat = model.config.get("qat") or {}
    return (qat.get("w_bits", 8) if w_bits is None else w_bits,
            qat.get("u_bits", 16) if u_bits is None else u_bits)


def from_torch(model, *, w_bits: int | Sequence[int] | None = None, u_bits: int | None = None,
               name: str = "") -> Model:
    """A trained snnhw torch model (:class:`~snnhw.nn.model.SpikingMLP`,
    :class:`~snnhw.nn.conv.SpikingConvNet`) quantised to the IR (``snnhw export``);
    widths as :func:`widths` chooses them."""
    from ..nn.export import export_model

    w_bits, u_bits = widths(model, w_bits, u_bits)
    q, net = export_model(model, w_bits=w_bits, u_bits=u_bits, name=name)
    return Model(net, integer=q, float_model=model, config=dict(model.config))


def open_checkpoint(path) -> Trained:
    """An snnhw checkpoint (``snnhw train`` / ``convert``) as a :class:`Trained` float
    model (``FileNotFoundError``, or a :class:`~snnhw.nn.train.CheckpointError` for a
    file that is not one)."""
    from ..nn.train import checkpoint_data, load_checkpoint

    model, ck = load_checkpoint(path)
    data = checkpoint_data(ck)
    return Trained("Checkpoint", {"checkpoint": str(path), "data": data,
                                  "timesteps": model.config["timesteps"]}, model,
                   history=ck.get("history") or None, data_spec=data)


def from_checkpoint(path, *, w_bits: int | Sequence[int] | None = None,
                    u_bits: int | None = None, name: str | None = None) -> Model:
    """An snnhw checkpoint quantised to the IR; its ``data`` is the data set it was made
    for."""
    return open_checkpoint(path).export(w_bits=w_bits, u_bits=u_bits,
                                        name=Path(path).stem if name is None else name)


def from_nir(graph, *, timesteps: int | None = None, in_bits: int | None = None,
             dt: float | None = None, reset: str | None = None, w_bits: int | None = None,
             u_bits: int | None = None, name: str = "nir") -> Model:
    """A NIR graph (a ``nir.NIRGraph`` object or a ``.nir`` path) quantised to the IR
    (``snnhw import``). A graph object whose producer left node types out (Sinabs' conv
    layers) gets them inferred first. A graph snnhw cannot represent is a
    :class:`~snnhw.nn.nirio.NIRError`; widths that cannot hold it an
    :class:`~snnhw.nn.quant.ExportError`."""
    return from_torch(float_from_nir(graph, timesteps=timesteps, in_bits=in_bits, dt=dt,
                                     reset=reset), w_bits=w_bits, u_bits=u_bits, name=name)


def float_from_nir(graph, *, timesteps: int | None = None, in_bits: int | None = None,
                   dt: float | None = None, reset: str | None = None):
    """The float torch model of a NIR graph (object or path), before quantisation."""
    from ..nn.nirio import from_nir as nir_to_torch

    if not isinstance(graph, (str, Path)):
        graph = _typed(graph)
    return nir_to_torch(graph, timesteps=timesteps, in_bits=in_bits, dt=dt, reset=reset)


def _typed(graph):
    """``graph`` with the node types NIR can infer filled in (a no-op when complete). A
    graph NIR cannot type goes on as it is: the import checks every shape itself and
    names the node that does not fit."""
    with contextlib.suppress(Exception):   # NIR raises plain exceptions here
        graph.infer_types()
    return graph


# ---------------------------------------------------------------------------- training
def _dataset(data, in_bits):
    from ..data import Dataset, load_data

    return data if isinstance(data, Dataset) else load_data(data, in_bits=in_bits)


def train_config(data, **options):
    """The :class:`~snnhw.nn.train.TrainConfig` for ``data`` (a
    :class:`~snnhw.data.Dataset`): ``options`` given (any ``TrainConfig`` field, ``hidden``
    sizes), else the data set's defaults, else ``TrainConfig``'s. ``arch``: a CNN or
    recurrent network's layers (``'cnn'``/``'rnn'``: the data set's default)."""
    from ..nn.conv import plan_arch
    from ..nn.train import NAMED_ARCHS, TrainConfig

    arch, T = options.get("arch"), options.get("timesteps")
    if arch is not None:
        if options.get("hidden") is not None:
            raise InputError("hidden is for the MLP; a CNN's layers are all in arch",
                             cli="--hidden is for the MLP; a CNN's layers are all in --arch")
        if arch not in NAMED_ARCHS:
            plan_arch(arch, data.in_shape, data.n_classes)   # an ArchError names the layer
    if data.temporal and T not in (None, data.steps):
        raise InputError(f"data {data.name!r} is temporal with {data.steps} steps; timesteps "
                         f"must be {data.steps} (or left out), got {T}",
                         cli=f"data {data.name!r} is temporal with {data.steps} steps; -T must "
                             f"be {data.steps} (or left out), got {T}")
    try:
        return TrainConfig.for_data(data, **{k: v for k, v in options.items()
                                             if v is not None or k == "leak_shift"})
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc)) from None


def train(data="digits", *, in_bits: int | None = None, progress: bool = False,
          **options) -> Trained:
    """Train a spiking MLP, CNN or recurrent network on ``data`` (a name, an ``.npz``
    path or a :class:`~snnhw.data.Dataset`) as ``snnhw train`` does; ``options`` as
    :func:`train_config` takes them. The result has the model, its history and its
    float accuracies (``train_acc``, ``test_acc``)."""
    from ..nn.train import evaluate
    from ..nn.train import train as fit

    d = _dataset(data, in_bits)
    cfg = train_config(d, **options)
    if isinstance(data, str):
        cfg.data = data   # a file is found again by its path
    try:
        model, history = fit(cfg, d, progress=progress)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return Trained("Training", {
        "seconds": round(history["seconds"], 2), "train_acc": history["train_acc"][-1],
        "test_acc": evaluate(model, d.x_test, d.y_test), "sizes": list(cfg.sizes),
        "timesteps": cfg.timesteps, "spike_bits": cfg.spike_bits, "data": d.name,
        "normalize": cfg.normalize, "arch": cfg.arch, "qat": model.config.get("qat")},
        model, history=history,
        train_config=cfg, data_spec=cfg.data)


def convert(data="digits", *, hidden=(128,), arch: str | None = None, timesteps: int = 32,
            spike_bits: int = 1, percentile: float = 99.9, l4="auto", epochs: int = 60,
            seed: int = 0, in_bits: int | None = None, encoding: str = "poisson",
            normalize: bool = False) -> Trained:
    """Train a ReLU MLP (``hidden`` sizes) or CNN (``arch``; ``'cnn'``: the data set's
    default; with BatchNorm, folded before conversion) on ``data`` and convert it to a
    rate-coded SNN (``snnhw convert``):
    data-based normalisation at ``percentile`` on calibration data (the first 20 % of
    the training split) and the L4-norm weight adjustment (``l4``: ``'auto'`` chooses
    the strength on the calibration data, a number fixes it, 0 disables it).

    ``encoding``: the SNN's input, ``poisson`` spikes of rate ``x / x_max`` or ``direct``
    (the integers every step, multi-bit); ``normalize`` (an MLP with ``direct``): the ANN
    trains on ``(x - mean) / std`` per input, which the SNN's first layer computes and
    export folds into its weights and bias, as for trained networks."""
    import torch

    from ..nn.convert import InputMap, ReLUCNN, choose_l4_strength, snn_accuracy, train_ann
    from ..nn.convert import convert as to_snn
    from ..nn.model import input_stats

    d = _dataset(data, in_bits)
    if d.temporal:
        raise InputError(f"data {d.name!r} is temporal; conversion rate-codes static inputs "
                         "(train it with 'snnhw train' instead)")
    if normalize and (encoding != "direct" or arch is not None):
        raise InputError("normalize converts an MLP with encoding='direct' (Poisson rates "
                         "cannot be negative; a CNN takes no input normalisation)",
                         cli="--normalize converts an MLP with --encoding direct (Poisson "
                             "rates cannot be negative; a CNN takes no input normalisation)")
    sizes = [d.n_in, *hidden, d.n_classes]
    net = None
    if arch is not None:
        if arch == "cnn":
            if "cnn" not in d.defaults:
                raise InputError(f"data {d.name!r} has no default CNN: give the layers, e.g. "
                                 "arch='c16k3p1,sp2,d64'",
                                 cli=f"data {d.name!r} has no default CNN: give the layers, "
                                     "e.g. --arch c16k3p1,sp2,d64")
            arch = d.defaults["cnn"]["arch"]
        torch.manual_seed(seed)
        net = ReLUCNN(arch, d.in_shape, d.n_classes, bn=True)   # an ArchError names the layer
    x_max = float(d.x_max)
    n_cal = len(d.x_train) // 5
    xc, yc = d.x_train[:n_cal], d.y_train[:n_cal]
    mean, std = input_stats(d.x_train) if normalize else (None, None)
    inputs = InputMap(encoding=encoding, x_max=x_max, in_bits=d.in_bits, mean=mean, std=std)
    ann = train_ann(sizes, d.x_train[n_cal:], d.y_train[n_cal:], epochs=epochs, seed=seed,
                    x_max=x_max, net=net, inputs=inputs)
    scores = {}
    if l4 == "auto":
        alpha, scores = choose_l4_strength(ann, xc, yc, timesteps=timesteps,
                                           spike_bits=spike_bits, seed=seed, x_max=x_max,
                                           percentile=percentile, inputs=inputs)
    else:
        alpha = l4
    snn = to_snn(ann, inputs.features(xc), timesteps=timesteps, spike_bits=spike_bits,
                 percentile=percentile, l4_strength=alpha, inputs=inputs)
    with torch.no_grad():
        ann_acc = float((ann(inputs.features(d.x_test)).argmax(1).numpy() == d.y_test).mean())
    acc = snn_accuracy(snn, d.x_test, d.y_test, seed=seed, x_max=x_max)
    return Trained("Conversion", {
        "ann_test_acc": ann_acc, "snn_test_acc": acc, "l4_strength": alpha,
        "l4_calibration_scores": {str(k): v for k, v in scores.items()},
        "timesteps": timesteps, "data": d.name, "encoding": encoding, "normalize": normalize,
        "arch": ",".join(net.arch) if net is not None else None}, snn,
        data_spec=data if isinstance(data, str) else d.name)
