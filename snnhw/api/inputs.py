"""A network's inputs: arrays brought to ``[batch, T, n_in]``, a data set's test split
encoded as the model was trained, or seeded random inputs when no data fits."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..ir import Network

__all__ = ["MEMORY_BUDGET", "RANDOM_DENSITY", "RANDOM_SAMPLES", "MAX_RANDOM_SAMPLES",
           "batch_size", "check_batch", "check_bytes", "check_fits", "check_inputs", "check_labels",
           "input_bytes", "sample_bytes", "split_inputs", "steps", "take"]

RANDOM_DENSITY = 0.25   # share of non-zero values in the seeded random inputs
RANDOM_SAMPLES = 64
MAX_RANDOM_SAMPLES = 1 << 16
#: what one run may hold at once (inputs expanded over T, charges, states, traces)
MEMORY_BUDGET = 1 << 30


def sample_bytes(net: Network, trace: bool = False) -> int:
    """About the memory one sample takes in the golden model: its inputs over ``T`` steps
    and, per layer, the charge, membranes and spikes of every step (twice that with a
    trace)."""
    neurons = sum(ly.n_out for ly in net.layers)
    return 8 * net.timesteps * (net.n_in + (8 if trace else 4) * neurons)


def check_bytes(net: Network) -> int:
    """About the memory one sample takes when the torch integer mode and the golden model
    run it side by side, every layer traced (``verify``, ``export``'s comparison,
    ``import``'s check)."""
    return 2 * sample_bytes(net, trace=True)


def input_bytes(net: Network) -> int:
    """The memory of one sample's inputs over the ``T`` steps (int64)."""
    return 8 * net.timesteps * net.n_in


def _amount(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 1 << 30 else f"{size / 2**20:.1f} MiB"


def check_inputs(net: Network, samples: int, where: str, *, option: str = "n",
                 cli_option: str = "--n", cli_where: str | None = None) -> None:
    """The inputs of ``samples`` samples over ``T`` steps fit :data:`MEMORY_BUDGET`, else an
    :class:`~snnhw.errors.InputError` with the memory they would need and how many fit
    (``option=N``; ``cli_option N`` in the command line's terms)."""
    per = input_bytes(net)
    fit = MEMORY_BUDGET // per
    if samples <= fit:
        return
    text = (f"{samples} samples at T={net.timesteps} need about {_amount(per * samples)} "
            f"of inputs, more than the {_amount(MEMORY_BUDGET)} budget")
    fits = f"; at most {fit} fit" if fit else ""
    raise InputError(f"{where}: {text}{fits}" + (f" ({option}={fit})" if fit else ""),
                     cli=f"{cli_where or where}: {text}{fits}"
                     + (f" ({cli_option} {fit})" if fit else ""))


def batch_size(net: Network, per: int, where: str, *, doing: str = "",
               cli_where: str | None = None) -> int:
    """How many samples of ``per`` bytes each fit :data:`MEMORY_BUDGET` at once; one sample
    that needs more is an :class:`~snnhw.errors.InputError` with the memory it would take
    (``doing`` says for what)."""
    if per > MEMORY_BUDGET:
        text = (f"one sample at T={net.timesteps} needs about {_amount(per)}{doing}, more "
                f"than the {_amount(MEMORY_BUDGET)} budget")
        raise InputError(f"{where}: {text}", cli=f"{cli_where or where}: {text}")
    return MEMORY_BUDGET // per


def check_batch(net: Network, where: str, *, cli_where: str | None = None) -> int:
    """How many samples a side-by-side check (:func:`check_bytes`) runs at once within
    :data:`MEMORY_BUDGET` (:func:`batch_size`)."""
    return batch_size(net, check_bytes(net), where, doing=" to check", cli_where=cli_where)


def steps(net: Network, x, where: str = "x", *, cli_where: str | None = None) -> np.ndarray:
    """``x`` as the network's input ``[batch, T, n_in]`` (int64): ``[n_in]`` and
    ``[batch, n_in]`` repeat every step; checked against the shape and ``in_bits``
    (:class:`~snnhw.errors.InputError` naming ``where``)."""
    from ..golden import check_input

    def error(detail: str) -> InputError:
        return InputError(f"{where}: {detail}", cli=f"{cli_where or where}: {detail}")

    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim == 2:
        if x.shape[1] != net.n_in:
            raise error(f"shape {list(x.shape)}, expected [batch, {net.n_in}] or "
                        f"[batch, {net.timesteps}, {net.n_in}]")
        x = np.repeat(x[:, None, :], net.timesteps, axis=1)
    if x.size == 0:
        raise error(f"no samples (shape {list(x.shape)})")
    try:
        return check_input(net, x)
    except (TypeError, ValueError) as exc:
        raise error(str(exc)) from None


def check_labels(y, classes: int, where: str, *, cli_where: str | None = None) -> np.ndarray:
    """Labels ``y`` as int64, or an :class:`~snnhw.errors.InputError` naming ``where``:
    integers (any width, unsigned up to 2**64-1 included) in ``0 .. classes-1``."""
    y = np.asarray(y)
    if y.dtype.kind not in "iub" or y.ndim != 1:
        detail = f"expected 1-D integer labels, got dtype {y.dtype}, shape {list(y.shape)}"
        raise InputError(f"{where}: {detail}", cli=f"{cli_where or where}: {detail}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= classes):
        detail = (f"labels {int(y.min())}..{int(y.max())}; the network has {classes} classes "
                  f"(0..{classes - 1})")
        raise InputError(f"{where}: {detail}", cli=f"{cli_where or where}: {detail}")
    return y.astype(np.int64)


def take(x, y, n: int | None):
    """The first ``n`` samples of ``x`` and labels ``y`` (all of them when ``n`` is None)."""
    if n is None:
        return x, y
    if not 1 <= n <= len(x):
        msg = f"n must be in 1..{len(x)}, got {n}"
        raise InputError(msg, cli="--" + msg)
    return x[:n], None if y is None else y[:n]


def split_inputs(net: Network, *, data=None, default_data: str | None = None,
                config: dict | None = None, encoding: str = "auto",
                in_bits: int | None = None, n: int | None = None, seed: int = 0):
    """``(x[n, T, n_in] int64, labels or None, what they are)``: the test split of
    ``data`` (a name, an ``.npz`` path or a :class:`~snnhw.data.Dataset`; default
    ``default_data``, else digits) encoded by ``config`` (a float model's; for an IR file
    ``encoding``: ``auto`` is direct when the data's values fit ``in_bits``, else
    Poisson; an ``.npz`` file is read at ``in_bits``, default the network's, the width
    it was trained at). When no data set was named and the default does not fit the network,
    :data:`RANDOM_SAMPLES` seeded random inputs (``n`` of them) of its ``in_bits``."""
    from ..data import Dataset, load_data
    from ..nn.model import encode

    given = data or default_data
    d = given if isinstance(given, Dataset) else load_data(
        given or "digits", in_bits=net.in_bits if in_bits is None else in_bits)
    if not d.fits(net.n_in, net.timesteps):
        if given is not None:
            raise InputError(f"data {d.name!r} has inputs of {d.shape_text()} per sample; "
                             f"the network takes {net.n_in} inputs over T={net.timesteps} "
                             "steps")
        return _random(net, RANDOM_SAMPLES if n is None else n, seed)
    check_labels(d.y_test, net.n_out, f"data {d.name!r}")
    xs, ys = take(d.x_test, d.y_test, n)
    check_inputs(net, len(xs), f"data {d.name!r}")
    if config is None:
        config = {"timesteps": net.timesteps, "encoding": encoding, "x_max": 16.0}
    if config["encoding"] == "auto":
        top = int(max(d.x_train.max(), d.x_test.max()))
        config = {**config, "x_max": float(max(top, 1)),
                  "encoding": "direct" if top < 1 << net.in_bits else "poisson"}
    x = xs if d.temporal else encode(config, xs, seed).numpy()
    where = f"data {d.name!r}"
    direct = config["encoding"] == "direct"
    x = steps(net, x, where + (" (try encoding='poisson')" if direct else ""),
              cli_where=where + (" (try --encoding poisson)" if direct else ""))
    return x, ys, f"{d.name} test samples"


def _random(net: Network, n: int, seed: int):
    if not 1 <= n <= MAX_RANDOM_SAMPLES:
        msg = f"n must be in 1..{MAX_RANDOM_SAMPLES}, got {n}"
        raise InputError(msg, cli="--" + msg)
    check_inputs(net, n, "random inputs")
    rng = np.random.default_rng(seed)
    shape = (n, net.timesteps, net.n_in)
    x = rng.integers(1, 1 << net.in_bits, shape) * (rng.random(shape) < RANDOM_DENSITY)
    return x.astype(np.int64), None, (
        f"seeded random inputs (seed {seed}, in_bits {net.in_bits}, "
        f"{int(RANDOM_DENSITY * 100)} % non-zero; the default data does not fit "
        f"n_in={net.n_in})")


def check_fits(config: dict, data) -> None:
    """An :class:`~snnhw.errors.InputError` when the test split of ``data`` (a
    :class:`~snnhw.data.Dataset`) does not fit a float model of ``config``."""
    from math import prod

    n_in = config["sizes"][0] if "sizes" in config else prod(config["in_shape"])
    T = config["timesteps"]
    if not data.fits(n_in, T):
        msg = (f"data {data.name!r} has inputs of {data.shape_text()} per sample; the model "
               f"takes {n_in} inputs over T={T} steps")
        raise InputError(msg + " (choose its data with data=)",
                         cli=msg + " (choose its data with --data)")
    if data.temporal and config.get("encoding") == "poisson":
        raise InputError(f"data {data.name!r} is temporal; this model rate-codes static inputs")
