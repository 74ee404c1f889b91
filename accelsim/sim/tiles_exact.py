"""Tile level of the simulator, exact mode: loader, PE array and writer as simpy processes.

The model and the arbitration rule are those of :mod:`accelsim.sim.tiles` (times in cycles);
here every tile is a simpy event and the DRAM channel is granted explicitly by
:class:`Channel`, so this is the reference the default mode's recurrence is tested against.
Tiles are still generated lazily (:func:`accelsim.sim.tiles.tile_kinds`).
"""

from __future__ import annotations

import simpy

from .tiles import TileTiming, tile_kinds
from .trace import MAX_SPANS


class Channel:
    """The DRAM channel of exact mode: one transfer at a time, granted by the arbitration rule.

    A request waits in a list with its request cycle.  Whenever the channel is free and
    someone waits, the grant is decided at the end of the current cycle's events (after
    every other event of that cycle, so every request made in that cycle competes): the
    earliest request goes first, a load before a drain requested in the same cycle.
    """

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.free = True
        self.waiting: list = []  # (request cycle, 0 load / 1 drain, event)
        self.armed = False

    def request(self, drain: bool) -> simpy.Event:
        ev = self.env.event()
        self.waiting.append((self.env.now, 1 if drain else 0, ev))
        self._arm()
        return ev

    def release(self) -> None:
        self.free = True
        self._arm()

    def _arm(self):
        if self.free and self.waiting and not self.armed:
            self.armed = True
            self._later()

    def _later(self):
        ev = self.env.event()
        ev.callbacks.append(self._decide)
        ev.succeed()

    def _decide(self, _ev):
        if self.env.peek() == self.env.now:  # events of this cycle still pending: decide after them
            self._later()
            return
        self.armed = False
        self.waiting.sort(key=lambda w: (w[0], w[1]))
        ev = self.waiting.pop(0)[2]
        self.free = False
        ev.succeed()


def run_exact(factors: list[int], irr: list[bool], double: bool, transfer_cycles, run_array,
              spans: list | None = None) -> TileTiming:
    """Run the tile level as simpy processes (every tile an event), see the module doc.

    Args:
        transfer_cycles: ``kind -> (load, drain, prefetch, stream)`` cycles: the prefetch (the next
            tile's inputs in double-buffered partitions) and the stream (the tile's passes' own DRAM
            traffic), see :class:`~accelsim.sim.tiles.TileCost`, are requested as one transfer when the
            tile starts, and the next tile starts only once it is done.
        run_array: ``(env, kind) -> generator`` running one tile's passes on the array.
        spans: list to append trace spans to (capped at ``MAX_SPANS``), or None.
    """
    env = simpy.Environment()
    chan = Channel(env)
    slots = simpy.Container(env, capacity=2 if double else 1, init=2 if double else 1)
    loaded = simpy.Store(env)
    computed = simpy.Store(env)
    stalls = {"fill": 0, "dram": 0, "drain": 0}
    counts: dict = {}
    out = {"events": 0, "busy": 0}
    finished = {}
    n_tiles = 1
    for f in factors:
        n_tiles *= f

    durations: dict = {}

    def cycles(kind):
        if kind not in durations:
            durations[kind] = transfer_cycles(kind)
        return durations[kind]

    def span(track, name, start, dur):
        if spans is not None and len(spans) < MAX_SPANS:
            spans.append((track, name, start, dur))

    def transfer(dur, drain, label):
        yield chan.request(drain)
        if dur:
            span("DRAM", label, env.now, dur)
            yield env.timeout(dur)
            out["busy"] += dur
        chan.release()
        out["events"] += 3

    def loader():
        for ti, kind in enumerate(tile_kinds(factors, irr)):
            counts[kind] = counts.get(kind, 0) + 1
            yield slots.get(1)
            yield from transfer(cycles(kind)[0], False, f"load tile {ti}")
            yield loaded.put((ti, kind))

    def writer():
        for _ in range(n_tiles):
            ti, kind = yield computed.get()
            yield from transfer(cycles(kind)[1], True, f"drain tile {ti}")
            yield slots.put(1)
        finished["end"] = env.now

    def array():
        prefetch = None
        for _ in range(n_tiles):
            w = env.now
            ti, kind = yield loaded.get()
            if prefetch is not None:
                yield prefetch
            stalls["fill" if ti == 0 else "dram"] += env.now - w
            ahead = sum(cycles(kind)[2:4])  # the prefetch, then the passes' own DRAM stream
            prefetch = env.process(transfer(ahead, False, f"prefetch / stream of tile {ti}")) if ahead else None
            yield from run_array(env, kind)
            span("GLB tiles", f"tile {ti}", int(w), int(env.now - w))
            yield computed.put((ti, kind))
        finished["array"] = env.now

    env.process(loader())
    env.process(writer())
    env.process(array())
    env.run()
    end, array_end = int(finished["end"]), int(finished["array"])
    stalls["drain"] = end - array_end
    return TileTiming(end=end, array_end=array_end, stalls=stalls, counts=counts, events=out["events"],
                      dram_busy=out["busy"])
