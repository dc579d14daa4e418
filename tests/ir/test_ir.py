import io
import json
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from snnhw import ir
from snnhw.ir import DenseLayer, Network
from snnhw.ir.examples import random_conv_network, random_network


def small_net(**changes) -> Network:
    rng = np.random.default_rng(7)
    return random_network(rng, [12, 9, 5, 3], in_bits=3, timesteps=3, leak_shift=3,
                          name="small", **changes)


def conv_net(**changes) -> Network:
    rng = np.random.default_rng(8)
    return random_conv_network(rng, (2, 6, 5), [(3, (3, 2), (1, 2), (1, 0)),
                                                (4, (2, 2), (2, 1), (0, 1))], [3],
                               leak_shift=2, name="conv", **changes)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rezip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def with_manifest(data: bytes, edit) -> bytes:
    parts = members(data)
    m = json.loads(parts["manifest.json"])
    edit(m)
    parts["manifest.json"] = json.dumps(m).encode()
    return rezip(parts)


# --- round trip -------------------------------------------------------------------


def test_roundtrip_is_identical(tmp_path):
    net = small_net()
    path = ir.save(net, tmp_path / "n.snn")
    back = ir.load(path)
    assert back.equals(net)
    assert back.content_hash() == net.content_hash()
    assert [ly.W.dtype for ly in back.layers] == [np.int64] * 3
    for a, b in zip(back.layers, net.layers):
        assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
        assert (a.k, a.fire_offset, a.leak_shift, a.reset) == (b.k, b.fire_offset, b.leak_shift,
                                                               b.reset)


def test_saving_twice_is_byte_identical(tmp_path):
    net = small_net()
    assert ir.dumps(net) == ir.dumps(ir.loads(ir.dumps(net)))


def test_file_is_an_npz_without_pickle(tmp_path):
    path = ir.save(small_net(), tmp_path / "n.snn")
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {"manifest.json"} | {f"layer{i}.{a}" for i in range(3)
                                                     for a in "Wb"}
        assert np.array_equal(z["layer1.W"], small_net().layers[1].W)
        assert json.loads(z["manifest.json"])["version"] == ir.SCHEMA_VERSION


def test_hash_covers_every_field():
    a, b = small_net(), small_net()
    assert a.content_hash() == b.content_hash()
    b.name = "other"
    assert a.content_hash() != b.content_hash()
    b = small_net()
    b.layers[0].W[0, 0] += 1 if b.layers[0].W[0, 0] < 100 else -1
    assert a.content_hash() != b.content_hash()
    c = small_net()
    c.layers[2].k -= 1
    c.layers[2].fire_offset = 0
    assert a.content_hash() != c.content_hash()


def test_storage_dtype_is_compact():
    parts = members(ir.dumps(small_net()))
    w = np.load(io.BytesIO(parts["layer0.W.npy"]))
    b = np.load(io.BytesIO(parts["layer0.b.npy"]))
    assert w.dtype == np.int8 and b.dtype == np.int16


# --- every named load error ---------------------------------------------------------


def good() -> bytes:
    return ir.dumps(small_net())


@pytest.mark.parametrize("version, exc, text", [
    (4, ir.IRVersionError, "schema version 4 is not supported"),
    ("1", ir.IRVersionError, "schema version '1' is not supported"),
    (True, ir.IRVersionError, "schema version True is not supported"),
])
def test_wrong_version(version, exc, text):
    def edit(m):
        m["version"] = version
    with pytest.raises(exc, match=text):
        ir.loads(with_manifest(good(), edit))


def test_missing_version():
    with pytest.raises(ir.IRVersionError, match="no schema 'version'"):
        ir.loads(with_manifest(good(), lambda m: m.pop("version")))


def test_missing_array():
    parts = members(good())
    del parts["layer1.b.npy"]
    with pytest.raises(ir.IRMissingError, match=r"member 'layer1\.b\.npy' is missing"):
        ir.loads(rezip(parts))


def test_missing_field():
    def edit(m):
        del m["layers"][2]["spike_bits"]
    with pytest.raises(ir.IRMissingError, match="layer 2: field 'spike_bits' is missing"):
        ir.loads(with_manifest(good(), edit))


def test_weight_outside_w_bits():
    net = small_net()
    parts = members(ir.dumps(net))
    W = net.layers[1].W.copy()
    W[2, 4] = 128  # w_bits=8 allows -128..127
    parts["layer1.W.npy"] = npy(W.astype(np.int16))
    with pytest.raises(ir.IRRangeError,
                       match=r"layer 1: array 'W'\[2, 4\] = 128 is outside -128..127 \(w_bits=8\)"):
        ir.loads(rezip(parts))


def test_bias_outside_u_bits():
    net = small_net()
    parts = members(ir.dumps(net))
    b = net.layers[0].b.copy()
    b[3] = -(1 << 15) - 1
    parts["layer0.b.npy"] = npy(b.astype(np.int32))
    with pytest.raises(ir.IRRangeError,
                       match=r"layer 0: array 'b'\[3\] = -32769 is outside -32768..32767 "
                             r"\(u_bits=16\)"):
        ir.loads(rezip(parts))


@pytest.mark.parametrize("field, value, text", [
    ("k", 15, "layer 1: field 'k' = 15 is out of range 0..14"),
    ("k", -1, "layer 1: field 'k' = -1 is out of range 0..14"),
    ("fire_offset", 1 << 20, "layer 1: field 'fire_offset' = 1048576 is out of range"),
    ("fire_offset", -1, "layer 1: field 'fire_offset' = -1 is out of range"),
    ("spike_bits", 9, "layer 1: field 'spike_bits' = 9 is out of range 1..8"),
    ("w_bits", 17, "layer 1: field 'w_bits' = 17 is out of range 2..16"),
    ("u_bits", 7, "layer 1: field 'u_bits' = 7 is out of range 8..32"),
    ("leak_shift", 0, "layer 1: field 'leak_shift' = 0 is out of range 1..16"),
    ("k", 2.0, "layer 1: field 'k' must be an integer, got 2.0"),
    ("reset", "sometimes", "layer 1: field 'reset' = 'sometimes' is not one of"),
])
def test_layer_field_out_of_range(field, value, text):
    def edit(m):
        m["layers"][1][field] = value
    exc = (ir.IRDTypeError if isinstance(value, float)
           else ir.IRKindError if isinstance(value, str) else ir.IRRangeError)
    with pytest.raises(exc, match=text):
        ir.loads(with_manifest(good(), edit))


def test_fire_offset_bound_depends_on_k():
    net = small_net()
    layer = net.layers[0]
    layer.fire_offset = (1 << layer.k) - 1
    net.validate()
    layer.fire_offset = 1 << layer.k
    with pytest.raises(ir.IRRangeError, match=f"'fire_offset' = {1 << layer.k} is out of range"):
        net.validate()


def test_shapes_do_not_chain():
    net = small_net()
    parts = members(ir.dumps(net))
    parts["layer1.W.npy"] = npy(np.zeros((5, 8), np.int8))

    def edit(m):
        m["layers"][1]["n_in"] = 8
    parts["manifest.json"] = with_manifest_bytes(parts["manifest.json"], edit)
    with pytest.raises(ir.IRShapeError,
                       match="layer 1: n_in = 8 does not chain to layer 0's n_out = 9"):
        ir.loads(rezip(parts))


def with_manifest_bytes(raw: bytes, edit) -> bytes:
    m = json.loads(raw)
    edit(m)
    return json.dumps(m).encode()


def test_manifest_shape_disagrees_with_array():
    def edit(m):
        m["layers"][0]["n_out"] = 10
    with pytest.raises(ir.IRShapeError, match="layer 0: manifest says n_out = 10 but W has shape"):
        ir.loads(with_manifest(good(), edit))


def test_unknown_layer_kind():
    def edit(m):
        m["layers"][2]["kind"] = "conv2d"
    with pytest.raises(ir.IRKindError, match="layer 2: field 'kind' = 'conv2d' is not one of"):
        ir.loads(with_manifest(good(), edit))


def test_unknown_readout():
    def edit(m):
        m["readout"] = "votes"
    with pytest.raises(ir.IRKindError, match="network: field 'readout' = 'votes'"):
        ir.loads(with_manifest(good(), edit))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.bool_, np.complex64])
def test_non_integer_dtype(dtype):
    parts = members(good())
    parts["layer0.W.npy"] = npy(np.zeros((9, 12), dtype))
    with pytest.raises(ir.IRDTypeError, match=f"array 'layer0.W' has dtype {np.dtype(dtype)}"):
        ir.loads(rezip(parts))


def test_object_array_is_refused_without_unpickling():
    buf = io.BytesIO()
    np.save(buf, np.array([1, "x"], dtype=object), allow_pickle=True)
    parts = members(good())
    parts["layer0.b.npy"] = buf.getvalue()
    with pytest.raises(ir.IRDTypeError, match="dtype object"):
        ir.loads(rezip(parts))


@pytest.mark.parametrize("cut", [0, 1, 10, 100, -1, -22, -200])
def test_truncated_file(cut):
    data = good()
    with pytest.raises(ir.IRFormatError):
        ir.loads(data[:cut])


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.snn"
    path.write_text("weights: [1, 2, 3]\n")
    with pytest.raises(ir.IRFormatError, match=r"x.snn: not an snnhw IR archive"):
        ir.load(path)


def test_not_our_format():
    with pytest.raises(ir.IRFormatError, match="manifest field 'format'"):
        ir.loads(with_manifest(good(), lambda m: m.update(format="onnx")))


def test_hash_mismatch_is_detected():
    net = small_net()
    parts = members(ir.dumps(net))
    W = net.layers[2].W.copy()
    W[0, 0] = 1 if W[0, 0] != 1 else 2
    parts["layer2.W.npy"] = npy(W.astype(np.int8))
    with pytest.raises(ir.IRHashError, match="content hash mismatch"):
        ir.loads(rezip(parts))


def test_logits_beyond_exact_range_are_refused():
    W = np.full((1, 1 << 20), (1 << 15) - 1, np.int64)
    layer = DenseLayer(W=W, b=np.zeros(1, np.int64), w_bits=16, u_bits=32, k=0,
                       fire_offset=0, spike_bits=1)
    with pytest.raises(ir.IRRangeError, match="beyond the exact integer limit"):
        Network(layers=[layer], in_bits=16, timesteps=1 << 14, readout="membrane")


def test_constructor_validates():
    with pytest.raises(ir.IRShapeError, match="non-empty list"):
        Network(layers=[], in_bits=4, timesteps=2)
    layer = small_net().layers[0]
    with pytest.raises(ir.IRRangeError, match="network: field 'in_bits' = 0"):
        Network(layers=[layer], in_bits=0, timesteps=2)
    with pytest.raises(ir.IRShapeError, match="array 'b' must have shape"):
        DenseLayer(W=layer.W, b=layer.b[:-1], w_bits=8, u_bits=16, k=2, fire_offset=0,
                   spike_bits=1).validate(0)


# --- corruption never escapes as anything but IRError ------------------------------


def check_load(data: bytes, original: Network) -> None:
    try:
        back = ir.loads(data)
    except ir.IRError:
        return
    assert back.equals(original)


ORIGINALS = {"dense": small_net(), "conv": conv_net()}
GOODS = {kind: ir.dumps(net) for kind, net in ORIGINALS.items()}
ORIGINAL, GOOD = ORIGINALS["dense"], GOODS["dense"]
kinds = st.sampled_from(sorted(ORIGINALS))


@given(st.data())
def test_random_byte_corruption(data):
    kind = data.draw(kinds)
    buf = bytearray(GOODS[kind])
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set" and buf:
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del buf[pos:pos + data.draw(st.integers(1, 16))]
    check_load(bytes(buf), ORIGINALS[kind])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids,
                                                               max_size=3),
    max_leaves=6)


@given(st.data())
def test_random_field_corruption(data):
    kind = data.draw(kinds)
    m = ORIGINALS[kind].manifest()
    if data.draw(st.booleans()):
        target = m
    else:
        target = m["layers"][data.draw(st.integers(0, len(m["layers"]) - 1))]
    key = data.draw(st.sampled_from([*sorted(target), "extra"]))
    if data.draw(st.booleans()):
        target.pop(key, None)
    else:
        target[key] = data.draw(json_values)
    parts = members(GOODS[kind])
    parts["manifest.json"] = json.dumps(m).encode()
    check_load(rezip(parts), ORIGINALS[kind])


arrays = st.sampled_from(["<i1", "<i2", "<i4", "<i8", "<u1", "<u8", ">i4", "<f4", "?"]).flatmap(
    lambda dt: st.tuples(st.just(dt), st.lists(st.integers(0, 12), min_size=0, max_size=5)))


@given(st.data())
def test_random_array_corruption(data):
    kind = data.draw(kinds)
    GOOD, ORIGINAL = GOODS[kind], ORIGINALS[kind]
    name = data.draw(st.sampled_from(sorted(n for n in members(GOOD) if n.endswith(".npy"))))
    dt, shape = data.draw(arrays)
    count = int(np.prod(shape)) if shape else 1
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(-300, 300, count).astype(np.dtype(dt)).reshape(shape)
    parts = members(GOOD)
    parts[name] = npy(values)
    check_load(rezip(parts), ORIGINAL)


@given(st.data())
def test_consistent_but_wrong_manifest_never_crashes(data):
    # A manifest edited as if its writer were wrong, hash check switched off:
    # validation alone must catch every bad value (IRError) or the network
    # that loads must pass validation.
    kind = data.draw(kinds)
    m = ORIGINALS[kind].manifest()
    layer = m["layers"][data.draw(st.integers(0, 2))]
    keys = ["k", "fire_offset", "spike_bits", "w_bits", "u_bits", "leak_shift", "n_in",
            "n_out", "reset", "kind"]
    if layer["kind"] == "conv":
        keys += ["in_shape", "out_shape", "kernel", "stride", "padding"]
    key = data.draw(st.sampled_from(keys))
    if key in ("in_shape", "out_shape", "kernel", "stride", "padding"):
        layer[key] = data.draw(st.lists(st.integers(-2, 9), min_size=len(layer[key]) - 1,
                                        max_size=len(layer[key]) + 1))
    else:
        layer[key] = data.draw(st.integers(-4, 40) | st.none()
                               | st.sampled_from(["soft", "hard", "conv", "dense"]))
    parts = members(GOODS[kind])
    parts["manifest.json"] = json.dumps(m).encode()
    with mock.patch.object(ir.Network, "content_hash", lambda self: m["content_hash"]):
        try:
            net = ir.loads(rezip(parts))
        except ir.IRError:
            return
        net.validate()
    loaded = net.layers[int(m["layers"].index(layer))].scalars()[key]
    assert loaded == layer[key]


# --- bounded reads: nothing is allocated past what the manifest allows ------------------


def test_declared_sizes_are_checked_before_reading():
    m = ORIGINAL.manifest()
    m["layers"][0]["n_in"] = m["layers"][0]["n_out"] = 30000
    parts = members(GOOD)
    parts["manifest.json"] = json.dumps(m).encode()
    with pytest.raises(ir.IRShapeError, match="n_in \\* n_out at most 67108864"):
        ir.loads(rezip(parts))


def test_a_weight_member_larger_than_its_manifest_is_refused_unread():
    # 4 MB of zeros compress to a few KB: the header's 2000 x 2000 would be widened
    # to 32 MB; the member is cut off at what the manifest's 6 x 5 could need
    big = io.BytesIO()
    np.save(big, np.zeros((2000, 2000), np.int8))
    parts = members(GOOD)
    parts["layer0.W.npy"] = big.getvalue()
    with pytest.raises(ir.IRFormatError, match=r"layer0\.W\.npy' (claims|holds) .* bytes"):
        ir.loads(rezip(parts))


def test_the_members_together_are_bounded(monkeypatch):
    # each member within its own bound, but not all of them together: a deflate bomb of
    # many layers is refused once the archive's total passes the budget
    from snnhw.ir import archive

    data = ir.dumps(small_net())
    total = sum(len(v) for k, v in members(data).items() if k.endswith(".npy"))
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", total)   # the manifest goes over
    with pytest.raises(ir.IRFormatError, match=r"more than the [0-9,]+ bytes allowed in all"):
        ir.loads(data)
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", total + (1 << 20))
    assert ir.loads(data).equals(small_net())
    # the values are charged as the int64 they become, not the int8 they are stored as
    values = sum(ly.W.size + ly.b.size for ly in small_net().layers)
    stored = sum(len(v) for v in members(data).values())         # the manifest too
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", stored + 8 * values - 1)
    with pytest.raises(ir.IRFormatError, match=r"the archive's arrays would take more than"):
        ir.loads(data)


def test_negative_dimensions_in_an_npy_header():
    parts = members(GOOD)
    n = ORIGINAL.layers[0].n_out
    # a header with shape (-1, -n) over n values: the product matches the payload
    hdr = {"descr": "<i8", "fortran_order": False, "shape": (-1, -n)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, hdr)
    parts["layer0.b.npy"] = buf.getvalue() + np.zeros(n, np.int64).tobytes()
    with pytest.raises(ir.IRError, match="bad shape"):
        ir.loads(rezip(parts))


def test_special_and_huge_files_are_refused(tmp_path):
    with pytest.raises(ir.IRFormatError, match="not a regular file"):
        ir.load("/dev/zero")
    with pytest.raises(ir.IRFormatError, match="not a regular file"):
        ir.load(tmp_path)


# --- schema v2: conv layers, and v1 files ---------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_v1_file_loads_unchanged_and_resaves_as_the_current_version():
    # committed before v2 existed: dense layers only, "version": 1
    path = FIXTURES / "v1_dense.snn"
    with zipfile.ZipFile(path) as zf:
        stored = json.loads(zf.read("manifest.json"))
    assert stored["version"] == 1
    net = ir.load(path)
    assert net.content_hash() == stored["content_hash"]
    assert [ly.kind for ly in net.layers] == ["dense"] * len(stored["layers"])
    for ly, ld in zip(net.layers, stored["layers"]):
        assert ly.scalars() == ld
    again = ir.loads(ir.dumps(net))
    assert again.equals(net) and again.manifest()["version"] == ir.SCHEMA_VERSION == 3
    # and it computes what the contract says: golden == the naive loop on its input
    from snnhw import golden
    from snnhw.golden import naive
    from snnhw.ir.examples import example_paths

    x = np.load(example_paths()[1])[:4]
    assert golden.run(net, x).logits.tolist() == naive.run_batch(net, x)[0]


def test_a_v2_file_loads_unchanged_and_computes_the_same():
    # committed before v3 existed: conv and dense layers, "version": 2
    path = FIXTURES / "v2_conv.snn"
    with zipfile.ZipFile(path) as zf:
        stored = json.loads(zf.read("manifest.json"))
    assert stored["version"] == 2
    net = ir.load(path)
    assert net.content_hash() == stored["content_hash"]
    assert [ly.scalars() for ly in net.layers] == stored["layers"]
    assert ir.loads(ir.dumps(net)).equals(net)
    from snnhw import golden
    from snnhw.golden import naive
    from snnhw.ir.examples import random_input

    x = random_input(np.random.default_rng(0), net, 3, density=0.5)
    assert golden.run(net, x).logits.tolist() == naive.run_batch(net, x)[0]


def test_a_recurrent_layer_in_a_v2_file_is_refused():
    from snnhw.ir.examples import random_network

    net = random_network(np.random.default_rng(0), [3, 4, 2], recurrent=(0,))
    data = with_manifest(ir.dumps(net), lambda m: m.update(version=2))
    with pytest.raises(ir.IRVersionError,
                       match="layer 0: recurrent layers need schema version 3"):
        ir.loads(data)


def test_conv_roundtrip_keeps_every_field(tmp_path):
    net = conv_net()
    back = ir.load(ir.save(net, tmp_path / "c.snn"))
    assert back.equals(net)
    first = back.layers[0]
    assert isinstance(first, ir.ConvLayer) and first.W.shape == (3, 2, 3, 2)
    assert (first.in_shape, first.stride, first.padding) == ((2, 6, 5), (1, 2), (1, 0))
    # OH = (6 + 2 - 3) // 1 + 1 = 6, OW = (5 + 0 - 2) // 2 + 1 = 2
    assert first.out_shape == (3, 6, 2) and first.n_out == 36 and first.n_in == 60
    assert back.layers[1].in_shape == (3, 6, 2)
    assert back.layers[1].out_shape == (4, 3, 3)   # (6-2)//2+1 = 3, (2+2-2)//1+1 = 3


def test_conv_in_a_v1_file_is_refused():
    data = with_manifest(ir.dumps(conv_net()), lambda m: m.update(version=1))
    with pytest.raises(ir.IRVersionError, match="layer 0: conv layers need schema version 2"):
        ir.loads(data)


def _conv(**changes):
    fields = dict(W=np.ones((2, 1, 3, 3), np.int64), b=np.zeros(2, np.int64),
                  in_shape=(1, 4, 4), w_bits=4, u_bits=12, k=2, fire_offset=1, spike_bits=1)
    fields.update(changes)
    return ir.ConvLayer(**fields)


@pytest.mark.parametrize("changes, exc, text", [
    (dict(W=np.ones((2, 1, 3), np.int64)), ir.IRShapeError, r"shape \(C_out, C_in, KH, KW\)"),
    (dict(W=np.ones((2, 1, 3, 3)) * 0.5), ir.IRDTypeError, "integer dtype"),
    (dict(W=np.full((2, 1, 3, 3), 8, np.int64)), ir.IRRangeError, "outside -8..7"),
    (dict(in_shape=(2, 4, 4)), ir.IRShapeError, "W has 1 input channels, in_shape"),
    (dict(in_shape=(1, 4)), ir.IRDTypeError, "'in_shape' must be a list of 3"),
    (dict(in_shape=(1, 0, 4)), ir.IRRangeError, "'in_shape' = 0"),
    (dict(stride=(0, 1)), ir.IRRangeError, "'stride' = 0"),
    (dict(stride=(1, True)), ir.IRDTypeError, "'stride' must be an integer"),
    (dict(padding=(-1, 0)), ir.IRRangeError, "'padding' = -1"),
    (dict(in_shape=(1, 2, 4)), ir.IRShapeError, "kernel \\(3, 3\\) is larger than"),
    (dict(b=np.zeros(3, np.int64)), ir.IRShapeError, "one bias per output channel"),
    (dict(b=np.array([0, 1 << 12])), ir.IRRangeError, "u_bits=12"),
    (dict(kind="dense"), ir.IRKindError, "'kind' = 'dense'"),
])
def test_conv_field_errors_are_named(changes, exc, text):
    layer = _conv(**changes)
    with pytest.raises(exc, match=text):
        Network(layers=[layer], in_bits=1, timesteps=1)


def test_conv_manifest_shapes_must_agree_with_the_arrays():
    for key, value in (("out_shape", [3, 6, 3]), ("kernel", [3, 3]), ("n_out", 35)):
        def edit(m, key=key, value=value):
            m["layers"][0][key] = value
        with mock.patch.object(ir.Network, "content_hash", lambda self: "x"):
            data = with_manifest(ir.dumps(conv_net()), edit)
            with pytest.raises(ir.IRError, match=f"{key}|more than the"):
                ir.loads(data)


def test_conv_declared_sizes_are_checked_before_reading():
    def edit(m):
        m["layers"][0]["kernel"] = [4096, 4096]
    with pytest.raises(ir.IRShapeError, match="more than the 67108864 allowed"):
        ir.loads(with_manifest(ir.dumps(conv_net()), edit))


def test_conv_chains_by_flat_size():
    net = conv_net()
    bad = ir.ConvLayer(W=np.ones((1, 4, 1, 1), np.int64), b=np.zeros(1, np.int64),
                       in_shape=(4, 3, 4), w_bits=4, u_bits=12, k=2, fire_offset=0,
                       spike_bits=1)
    with pytest.raises(ir.IRShapeError, match="n_in = 48 does not chain to layer 1's n_out = 36"):
        Network(layers=[*net.layers[:2], bad], in_bits=3, timesteps=3)
