"""Trace-event JSON (the format chrome://tracing and Perfetto open) of one simulated layer.

One track (thread) per resource: DRAM, GLB tiles, NoC in, PE array, NoC psum
out.  Timestamps and durations are in cycles; the viewer shows them as
microseconds (1 us on screen = 1 cycle), as ``otherData`` says.
The simulator records at most ``MAX_SPANS`` spans per layer, the first ones in simulation order,
and drops the rest; ``otherData.truncated`` says whether the cap was reached.
Format: "Trace Event Format", Google, the "Complete" (ph: X) and metadata
(ph: M, thread_name) events.
"""

from __future__ import annotations

import json
from pathlib import Path

MAX_SPANS = 200_000
TRACKS = ("DRAM", "GLB tiles", "NoC in", "PE array", "NoC psum out")


def trace_events(spans: list, layer: str, cycles: int) -> dict:
    """Build the trace document from ``(track, name, start, duration)`` spans (cycles)."""
    tids = {t: i + 1 for i, t in enumerate(TRACKS)}
    events = [{"name": "process_name", "ph": "M", "pid": 1, "args": {"name": f"accelsim layer {layer}"}}]
    for t, i in tids.items():
        events.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": i, "args": {"name": t}})
        events.append({"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": i, "args": {"sort_index": i}})
    kept = sorted(spans, key=lambda s: (s[2], tids.get(s[0], 99)))[:MAX_SPANS]
    for track, name, start, dur in kept:
        events.append({"name": name, "cat": track, "ph": "X", "pid": 1, "tid": tids.get(track, 99),
                       "ts": int(start), "dur": int(dur)})
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"layer": layer, "cycles": cycles, "time_unit": "1 us in the viewer = 1 cycle",
                      "spans": len(spans), "spans_written": len(kept), "truncated": len(spans) >= MAX_SPANS},
    }


def write_trace(path: Path, spans: list, layer: str, cycles: int) -> None:
    """Write one layer's trace JSON to ``path``."""
    path.write_text(json.dumps(trace_events(spans, layer, cycles)))
