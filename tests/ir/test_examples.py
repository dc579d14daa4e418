import numpy as np

from snnhw import ir
from snnhw.ir.examples import build_example, example_paths


def test_shipped_files_are_what_the_builder_makes():
    net, x = build_example()
    net_path, x_path = example_paths()
    assert net_path.read_bytes() == ir.dumps(net)
    assert np.array_equal(np.load(x_path), x)
