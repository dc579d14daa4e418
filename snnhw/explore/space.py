"""The space a sweep covers: a small TOML file and/or command-line options, expanded
into points.

A point is one export of one checkpoint (``w_bits``, ``u_bits``) on one board with one
``lanes`` choice and clock. Spike bits and time steps are fixed when a model is trained:
a sweep over them either lists one checkpoint per training (``checkpoints``), or has
the sweep train them (a ``[train]`` table: one model per ``spike_bits`` x
``timesteps``, trained on the cluster first and kept for later sweeps). Each point
records its checkpoint's spike bits and ``T``.

    # explore.toml
    checkpoints = ["out/model.pt"]     # one or more (snnhw train / convert)
    data = "digits"                    # default: each checkpoint's own data set
    boards = ["icebreaker", "ulx3s"]
    lanes = ["1", "2", "4", "2,1"]     # one number, or one per layer
    w_bits = [4, 6, 8]
    u_bits = [16]
    clock_mhz = [0]                    # 0: the board oscillator
    cores = ["pipeline", "serial"]     # default: pipeline

    [train]                            # optional: models trained by the sweep
    data = "digits"
    spike_bits = [1, 2]
    timesteps = [2, 4]
    epochs = 40                        # and any other 'snnhw train' choice
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SnnhwError

__all__ = ["SpaceError", "Space", "Point", "load_space", "KEYS", "MAX_POINTS"]

#: keys a space file may hold, and what each is
KEYS = {
    "checkpoints": "checkpoint files (snnhw train / convert), one or more",
    "data": "data set name or .npz file (default: each checkpoint's own)",
    "boards": "board names",
    "lanes": "lanes: one number or one per layer (\"2,1\")",
    "w_bits": "weight widths 2..16",
    "u_bits": "membrane widths 8..32",
    "clock_mhz": "clocks in MHz (0: the board oscillator)",
    "cores": "cores: pipeline (a processing element per layer), serial (one for all)",
    "train": "a table: models the sweep trains, one per spike_bits x timesteps",
}


class SpaceError(SnnhwError, ValueError):
    """A space that cannot be swept; the message names the key."""


@dataclass(frozen=True)
class Point:
    """One point of a sweep. ``checkpoint_sha`` (the file's SHA-256) makes the hash
    follow the checkpoint's contents, not its path."""
    checkpoint: str
    checkpoint_sha: str
    data: str | None
    board: str
    lanes: str
    w_bits: int
    u_bits: int
    clock_mhz: float
    core: str = "pipeline"

    def key(self) -> dict:
        """What the result depends on (the hash's input; a pipeline point's hash is the
        one it had before cores were swept, so stores made then still resume)."""
        d = dict(self.__dict__)
        del d["checkpoint"]
        if d["core"] == "pipeline":
            del d["core"]
        return d

    @property
    def hash(self) -> str:
        text = json.dumps(self.key(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Space:
    checkpoints: list[str]
    train: dict | None = None
    data: str | None = None
    boards: list[str] = field(default_factory=lambda: ["icebreaker"])
    lanes: list[str] = field(default_factory=lambda: ["2"])
    w_bits: list[int] = field(default_factory=lambda: [8])
    u_bits: list[int] = field(default_factory=lambda: [16])
    clock_mhz: list[float] = field(default_factory=lambda: [0.0])
    cores: list[str] = field(default_factory=lambda: ["pipeline"])

    def trainings(self) -> list[dict]:
        """``[train]`` as one training per ``spike_bits`` x ``timesteps``: each a dict of
        ``data`` and the choices for :meth:`~snnhw.nn.train.TrainConfig.for_data`."""
        if not self.train:
            return []
        rest = {k: v for k, v in self.train.items() if k not in ("spike_bits", "timesteps")}
        return [{**rest, "spike_bits": sb, "timesteps": t}
                for sb in self.train["spike_bits"] for t in self.train["timesteps"]]

    def size(self) -> int:
        """How many points :meth:`points` gives (with a checkpoint per training), counted
        without making them."""
        n = len(self.checkpoints) + len(self.trainings())
        for values in (self.boards, self.lanes, self.w_bits, self.u_bits, self.clock_mhz,
                       self.cores):
            n *= len(values)
        return n

    def points(self) -> list[Point]:
        """Every combination, checkpoints outermost, in a fixed order."""
        out = []
        for ck in self.checkpoints:
            sha = file_sha256(ck)
            for board in self.boards:
                for lanes in self.lanes:
                    for wb in self.w_bits:
                        for ub in self.u_bits:
                            for clk in self.clock_mhz:
                                out += [Point(str(Path(ck).resolve()), sha, self.data, board,
                                              lanes, wb, ub, float(clk), core)
                                        for core in self.cores]
        return out

    def as_dict(self) -> dict:
        return dict(self.__dict__)


#: the most points one sweep takes (each builds a design; a space larger than this is a
#: typo or a list that multiplied out)
MAX_POINTS = 10_000
MAX_SPACE_FILE_BYTES = 1 << 20


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        raise SpaceError(f"checkpoints: no such file: {path}") from None
    except OSError as exc:
        raise SpaceError(f"checkpoints: cannot read {path}: {exc.strerror or exc}") from None
    return h.hexdigest()


def _ints(key, values, lo, hi) -> list[int]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise SpaceError(f"{key}: {v!r} is not an integer from {lo} to {hi}")
        out.append(v)
    return out


def _lanes(values) -> list[str]:
    out = []
    for v in values:
        text = str(v).replace(" ", "")
        parts = text.split(",")
        if isinstance(v, bool) or not all(p.isascii() and p.isdigit() and int(p) >= 1
                                          for p in parts):
            raise SpaceError(f"lanes: {v!r} is not a positive integer or a comma-separated "
                             "list of them")
        out.append(text)
    return out


def _list(key, value) -> list:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise SpaceError(f"{key}: empty list")
    return values


def load_space(path: str | None = None, **overrides) -> Space:
    """The space in ``path`` (TOML), with ``overrides`` (non-``None`` values) replacing
    its keys. Unknown keys, wrong types and empty lists are one-line :class:`SpaceError`s."""
    raw: dict = {}
    if path is not None:
        try:
            if Path(path).stat().st_size > MAX_SPACE_FILE_BYTES:
                raise SpaceError(f"space file {path}: larger than "
                                 f"{MAX_SPACE_FILE_BYTES >> 10} KiB")
            raw = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise SpaceError(f"no such space file: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpaceError(f"cannot read space file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SpaceError(f"space file {path} is not valid TOML: {exc}") from None
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise SpaceError(f"space file {path}: unknown key(s) {', '.join(unknown)}; known: "
                             f"{', '.join(KEYS)}")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    train = _train(raw.get("train"))
    if not raw.get("checkpoints") and not train:
        raise SpaceError("no checkpoints: give CHECKPOINT arguments, 'checkpoints' or a "
                         "[train] table in the space file")
    from snnboards.platforms import BOARDS

    boards = [str(b) for b in _list("boards", raw.get("boards", ["icebreaker"]))]
    for b in boards:
        if b not in BOARDS:
            raise SpaceError(f"boards: unknown board {b!r}; one of {', '.join(sorted(BOARDS))}")
    data = raw.get("data")
    if data is not None and not isinstance(data, str):
        raise SpaceError(f"data: expected a name or a file, got {data!r}")
    clocks = []
    for c in _list("clock_mhz", raw.get("clock_mhz", [0])):
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0 <= c <= 1000:
            raise SpaceError(f"clock_mhz: {c!r} is not a number from 0 to 1000")
        clocks.append(float(c))
    space = Space(
        checkpoints=([str(c) for c in _list("checkpoints", raw["checkpoints"])]
                     if raw.get("checkpoints") else []),
        train=train, data=data, boards=list(dict.fromkeys(boards)),
        lanes=list(dict.fromkeys(_lanes(_list("lanes", raw.get("lanes", ["2"]))))),
        w_bits=list(dict.fromkeys(_ints("w_bits", _list("w_bits", raw.get("w_bits", [8])), 2,
                                        16))),
        u_bits=list(dict.fromkeys(_ints("u_bits", _list("u_bits", raw.get("u_bits", [16])), 8,
                                        32))),
        clock_mhz=list(dict.fromkeys(clocks)),
        cores=list(dict.fromkeys(_cores(raw.get("cores", ["pipeline"])))))
    count = space.size()
    if count > MAX_POINTS:
        raise SpaceError(f"the space has {count:,} points, more than the {MAX_POINTS:,} a "
                         "sweep takes; give fewer values (each key's values multiply)")
    return space


def _cores(value) -> list[str]:
    from ..gateware.cores import CORES

    out = [str(c) for c in _list("cores", value)]
    for c in out:
        if c not in CORES:
            raise SpaceError(f"cores: unknown core {c!r}; one of {', '.join(CORES)}")
    return out


#: 'snnhw train' choices a [train] table may set besides spike_bits and timesteps
TRAIN_KEYS = {"data", "hidden", "arch", "epochs", "batch_size", "optimizer", "lr", "momentum",
              "weight_decay", "seed", "reset", "leak_shift", "fire", "mpr", "rmp_lambda",
              "rmp_schedule", "readout", "bn", "normalize"}


def _train(table) -> dict | None:
    """The ``[train]`` table checked for its keys and lists (the choices themselves are
    checked when the configs are made, :func:`training_configs`)."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SpaceError("train: expected a table ([train] with data, spike_bits, timesteps, "
                         "...)")
    unknown = sorted(set(table) - TRAIN_KEYS - {"spike_bits", "timesteps"})
    if unknown:
        raise SpaceError(f"train: unknown key(s) {', '.join(unknown)}; known: spike_bits, "
                         f"timesteps, {', '.join(sorted(TRAIN_KEYS))}")
    out = dict(table)
    out["spike_bits"] = list(dict.fromkeys(_ints("train.spike_bits", _list(
        "train.spike_bits", table.get("spike_bits", [2])), 1, 8)))
    out["timesteps"] = list(dict.fromkeys(_ints("train.timesteps", _list(
        "train.timesteps", table.get("timesteps", [4])), 1, 1 << 16)))
    out.setdefault("data", "digits")
    if not isinstance(out["data"], str):
        raise SpaceError(f"train.data: expected a name or a file, got {out['data']!r}")
    return out


def training_configs(space: Space) -> list[tuple[str, dict]]:
    """``[(name, training)]``: each training of ``space`` checked by making its
    :class:`~snnhw.nn.train.TrainConfig` (a bad choice is a :class:`SpaceError`), named
    by a hash of the config, so the same training is found again."""
    import dataclasses

    from ..data import DataError, load_data
    from ..nn.train import TrainConfig

    out = []
    datasets = {}
    for t in space.trainings():
        changes = {k: v for k, v in t.items() if k != "data"}
        if "hidden" in changes:
            h = changes["hidden"]
            changes["hidden"] = tuple(h) if isinstance(h, list) else (h,)
        try:
            if t["data"] not in datasets:
                datasets[t["data"]] = load_data(t["data"])
            cfg = TrainConfig.for_data(datasets[t["data"]], **changes)
        except (DataError, TypeError, ValueError) as exc:
            raise SpaceError(f"train: {' '.join(str(exc).split())}") from None
        text = json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=list)
        name = (f"{cfg.data}-s{cfg.spike_bits}-T{cfg.timesteps}-"
                + hashlib.sha256(text.encode()).hexdigest()[:12])
        out.append((name, {"data": t["data"], **changes}))
    return out

