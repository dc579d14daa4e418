"""Design-space exploration: sweep checkpoints x quantisation x boards x lanes x clocks
on Dask, keep every point in an SQLite store, and report the Pareto fronts
(docs/explore.md).

* :mod:`~snnhw.explore.space`: the space (TOML file and options) and its points;
* :mod:`~snnhw.explore.point`: one point's stages, as a worker runs them;
* :mod:`~snnhw.explore.store`: the results store;
* :mod:`~snnhw.explore.runner`: the sweep on a Dask cluster;
* :mod:`~snnhw.explore.pareto`, :mod:`~snnhw.explore.report`: fronts, table, plots, HTML.
"""
