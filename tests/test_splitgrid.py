"""The vectorised split grid against the recursive walk it replaces (oracle: the walk itself)."""

from __future__ import annotations

import random

import pytest

from accelsim.arch import load_arch
from accelsim.mapper import splitgrid
from accelsim.mapper.splitgrid import grid_splits
from accelsim.mapper.tilings import OutOfWork, Work, walk_splits, divisors, glb_splits
from accelsim.workload import load_workload
from accelsim.workload.loopnest import DIMS


def _cases(arch_file, workload_file, per_layer, seed):
    rng = random.Random(seed)
    arch = load_arch(arch_file)
    for layer in load_workload(workload_file).layers:
        nest = layer.nest
        if nest is None:
            continue
        for _ in range(per_layer):
            inner = {d: rng.choice(divisors(nest.dims[d])[:3]) for d in DIMS}
            rem = {d: nest.dims[d] // inner[d] for d in DIMS}
            dims = [d for d in DIMS if rem[d] > 1]
            if dims:
                yield arch, nest, inner, rem, dims, rng.choice([lv.index for lv in arch.onchip])


@pytest.mark.parametrize("arch_file,workload_file", [("eyeriss.yaml", "mobilenet.yaml"),
                                                     ("simba_like.yaml", "alexnet.yaml"),
                                                     ("scnn.yaml", "alexnet_sparse.yaml"),
                                                     ("eyeriss_like.yaml", "resnet50.yaml")])
def test_grid_equals_walk(monkeypatch, arch_file, workload_file):
    """Same splits, same order, same fit checks, maximal or not, on every grid size."""
    monkeypatch.setattr(splitgrid, "MIN_CELLS", 0)
    n = 0
    for arch, nest, inner, rem, dims, lvl in _cases(arch_file, workload_file, 4, 7):
        for maximal in (True, False):
            w = Work(10**9)
            walk = list(walk_splits(nest, arch, lvl, inner, rem, dims, maximal, w))
            grid = grid_splits(nest, arch, lvl, inner, dims, [divisors(rem[d]) for d in dims], maximal)
            if grid is None:
                continue
            n += 1
            assert grid[0] == walk
            assert grid[1] == 10**9 - w.left
    assert n > 50


def test_allowance_runs_out_as_in_the_walk(monkeypatch):
    """With too few checks left, glb_splits yields what the walk yields before it runs out."""
    monkeypatch.setattr(splitgrid, "MIN_CELLS", 0)
    for arch, nest, inner, rem, dims, lvl in list(_cases("eyeriss.yaml", "mobilenet.yaml", 2, 3))[:20]:
        full = Work(10**9)
        list(walk_splits(nest, arch, lvl, inner, rem, dims, True, full))
        need = 10**9 - full.left
        for left in (need, max(need - 1, 0), need // 2):
            a, b = [], []
            wa, wb = Work(left), Work(left)
            try:
                for s in glb_splits(nest, arch, inner, rem, True, wa, lvl):
                    a.append(s)
            except OutOfWork:
                pass
            try:
                for s in walk_splits(nest, arch, lvl, inner, rem, dims, True, wb):
                    b.append(s)
            except OutOfWork:
                pass
            assert a == b and wa.left == wb.left and wa.exhausted == wb.exhausted
