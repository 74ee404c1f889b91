"""Fuzz tests of the ``accelsim run`` command line (hypothesis; strategies in ``fuzz_strategies.py``).

Properties, for any input:

- no traceback; the exit code is 0 or 2; exit 2 prints ``error:`` on stderr
  naming one of the input files (or the CLI option at fault);

and on exit 0:

- every layer's cycles >= ceil(MACs / PEs) and utilization <= 1;
- the per-level energies sum to the total, per layer and for the network;
- each layer's MACs (and loop bounds) equal N*G*M*C*P*Q*R*S computed
  independently from the generated layer (floor rule for P and Q);
- ``report.json`` (and ``--format json`` output, and trace files) is strict JSON
  (no NaN or Infinity);
- identical inputs give identical reports (wall times aside), also with
  ``--jobs 1`` against ``--jobs 2``.

Profiles (registered in ``conftest.py``): the default ``quick`` profile runs
with the normal ``python -m pytest`` (deterministic, a few dozen examples per
test, no shrinking, well under a minute); ``pytest -m fuzz
--hypothesis-profile=fuzz-long`` runs 1,000 examples per test and shrinks
failures.

Every example runs the CLI in-process (typer's CliRunner) with ``--jobs 1``
and a small ``--budget``, in a fresh ``tempfile.TemporaryDirectory``, under
a CPU-time limit (SIGPROF, with a wall-clock backstop) and an address-space limit, so a hang or a memory
blow-up is a failing example rather than a stuck or killed test run.
"""

from __future__ import annotations

import contextlib
import json
import math
import resource
import signal
import tempfile
import traceback
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from accelsim.cli import app
from fuzz_strategies import (
    archs,
    slot_of_old_key,
    arch_pes,
    cli_options,
    effective_dataflow,
    invalid_mappings,
    mutated_text,
    valid_mappings,
    workloads,
)

pytestmark = pytest.mark.fuzz

runner = CliRunner()

QUICK = settings.get_current_profile_name() in ("quick", "default")
#: CPU-time limit of one CLI run (seconds); a tiny valid example takes ~0.05 s.  CPU time, not wall time,
#: so a loaded or memory-starved machine does not turn a slow example into a false hang; a wall-clock
#: backstop of WALL_FACTOR times as long catches a run blocked without using the CPU.
TIME_LIMIT_S = 10 if QUICK else 30
WALL_FACTOR = 6
#: address space the test process may grow by during one CLI run
MEMORY_HEADROOM_BYTES = 4 << 30


def fuzz_settings(quick_examples: int, long_examples: int | None = None):
    """Settings for a fuzz test: ``quick_examples`` under the quick profile, else the profile's count.

    The quick profile also skips shrinking, so a failure (possibly a
    ``TIME_LIMIT_S`` hang) stays cheap in the normal test run; the long profile
    shrinks.
    """
    kw = dict(deadline=None, suppress_health_check=list(HealthCheck))
    if QUICK:
        return settings(max_examples=quick_examples, phases=[Phase.explicit, Phase.reuse, Phase.generate], **kw)
    # no explain phase: once a failure is found it traces every later example, which slows a run
    # many times over and turns ordinary examples into false hangs
    kw["phases"] = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
    if long_examples is not None:
        return settings(max_examples=long_examples, **kw)
    return settings(**kw)


# ----------------------------------------------------------------------------- running the CLI


class _Alarm(BaseException):
    pass


class Hang(Exception):
    """The CLI used more than :data:`TIME_LIMIT_S` of CPU time (or WALL_FACTOR times as much wall time)."""


@contextlib.contextmanager
def _limits(seconds: float):
    """Raise :class:`Hang` after ``seconds`` of CPU time (or WALL_FACTOR x as long on the wall clock);
    cap the address space to turn runaway allocation into MemoryError."""

    def on_alarm(signum, frame):
        stack = traceback.extract_stack(frame)
        ours = [f for f in stack if "/accelsim/" in f.filename.replace("\\", "/")]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(ours[-4:]))
        inner = stack[-1]
        clock = "CPU" if signum == signal.SIGPROF else "wall-clock"
        raise _Alarm(f"{seconds if clock == 'CPU' else seconds * WALL_FACTOR} s of {clock} time, in {where} "
                     f"(innermost: {Path(inner.filename).name}:{inner.lineno} {inner.name})")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    vm = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                vm = int(line.split()[1]) * 1024
    cap = vm + MEMORY_HEADROOM_BYTES
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    old = {sig: signal.signal(sig, on_alarm) for sig in (signal.SIGALRM, signal.SIGPROF)}
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR)
    try:
        yield
    except _Alarm as e:
        raise Hang(f"still running after {e.args[0]}") from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in old.items():
            signal.signal(sig, handler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_cli(args: list[str]):
    """``accelsim`` in-process with a time and memory limit; notes the command for failure reports."""
    note("command: accelsim " + " ".join(repr(a) if (" " in a or not a) else a for a in args))
    with _limits(TIME_LIMIT_S):
        return runner.invoke(app, args)


def stderr_of(r) -> str:
    try:
        return r.stderr
    except (ValueError, AttributeError):
        return r.output


def write_file(folder: Path, name: str, content) -> str:
    """Write a dict as YAML, or str/bytes as is; note the content for failure reports."""
    p = folder / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
        p.write_text(text, encoding="utf-8")
    shown = content if isinstance(content, (str, bytes)) else p.read_text(encoding="utf-8")
    note(f"--- {name} ---\n{shown[:3000]!r}" if isinstance(shown, bytes) or len(shown) > 3000 else
         f"--- {name} ---\n{shown}")
    return str(p)


def _reject_constant(name):
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str):
    """``json.loads`` that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_reject_constant)


# ----------------------------------------------------------------------------- properties


def assert_clean_exit(r, files: list[str], options: list[str]) -> int:
    """No traceback, exit 0 or 2, and on exit 2 ``error:`` naming a file or a given option."""
    err = stderr_of(r)
    exc = r.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = "".join(traceback.format_exception(*r.exc_info)) if r.exc_info else repr(exc)
        raise AssertionError(f"uncaught {type(exc).__name__}: {str(exc)[:300]}\n{tb[-3000:]}")
    assert "Traceback" not in r.output and "Traceback" not in err, err[-2000:]
    assert r.exit_code in (0, 2), (r.exit_code, err[-2000:])
    event(f"exit {r.exit_code}")
    if r.exit_code == 2:
        assert "error:" in err, f"exit 2 without 'error:' on stderr: {err[-1000:]!r}"
        named = [f for f in files + options if f in err]
        assert named, f"the error names none of {files + options}: {err[-1000:]!r}"
    return r.exit_code


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def check_report(out: Path, r, fmt: str | None, arch: dict | None = None, case=None,
                 selected: list[str] | None = None, trace: Path | None = None) -> dict:
    """The properties of a successful run (see the module doc); returns the parsed report."""
    report = strict_json((out / "report.json").read_text(encoding="utf-8"))
    if fmt == "json":
        strict_json(r.stdout)
    pe = report["inputs"]["arch"]["pe_array"]
    pes = pe["rows"] * pe["cols"]
    if arch is not None:
        assert pes == arch_pes(arch)
    layers = report["layers"]
    assert layers, "a successful run maps at least one layer"
    for l in layers:
        name = l["name"]
        assert isinstance(l["cycles"], int), (name, l["cycles"])
        assert l["cycles"] * pes >= l["macs"], f"{name}: {l['cycles']} cycles < ceil({l['macs']} MACs / {pes} PEs)"
        assert 0 <= l["utilization"] <= 1, (name, l["utilization"])
        assert _close(sum(l["energy_by_level_pj"].values()), l["energy_pj"]), (name, l["energy_by_level_pj"],
                                                                               l["energy_pj"])
    tot = report["totals"]
    assert tot["macs"] == sum(l["macs"] for l in layers)
    assert tot["cycles"] * pes >= tot["macs"]
    assert 0 <= tot["utilization"] <= 1, tot["utilization"]
    assert _close(sum(tot["energy_by_level_pj"].values()), tot["energy_pj"]), (tot["energy_by_level_pj"],
                                                                               tot["energy_pj"])
    assert _close(sum(l["energy_pj"] for l in layers), tot["energy_pj"])
    if case is not None:
        exp = {l.name: l for l in case.layers}
        got = [l["name"] for l in layers]
        assert got == selected, f"mapped layers {got}, expected {selected}"
        for l in layers:
            e = exp[l["name"]]
            assert {d: l["shape"][d] for d in e.dims} == e.dims, (l["name"], l["shape"], e.dims)
            assert l["macs"] == e.macs, (l["name"], l["macs"], e.macs)
        assert report["inputs"]["workload"]["layers_in_file"] == len(case.layers)
    csv_rows = (out / "layers.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) >= len(layers) + 1
    if trace is not None:
        files = sorted(trace.glob("*.trace.json"))
        assert len(files) == len(layers), [f.name for f in files]
        for f in files:
            strict_json(f.read_text(encoding="utf-8"))
    return report


def _drop_wall_times(node):
    if isinstance(node, dict):
        return {k: _drop_wall_times(v) for k, v in node.items() if k not in ("wall_s", "wall_seconds")}
    if isinstance(node, list):
        return [_drop_wall_times(v) for v in node]
    return node


def _run_args(arch_p, wl_p, opts, out: Path, jobs: int = 1, mapping: str | None = None,
              trace: Path | None = None) -> list[str]:
    args = ["run", arch_p, wl_p, *opts.args(), "--out", str(out), "--jobs", str(jobs)]
    if mapping is not None:
        args += ["--mapping", mapping]
    if trace is not None:
        args += ["--trace", str(trace)]
    return args


def _option_names(opts) -> list[str]:
    return [a for a in opts.args() if a.startswith("--")]


# ----------------------------------------------------------------------------- tests




@fuzz_settings(quick_examples=60)
@given(arch=archs(), case=workloads(), data=st.data())
def test_valid_inputs(arch, case, data):
    """Valid arch + workload + options: exit 0 with a sound report, or exit 2 only for an unmappable layer."""
    opts = data.draw(cli_options(case), label="options")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        a, w = write_file(d, "arch.yaml", arch), write_file(d, "net.yaml", case.data)
        trace = d / "trace" if opts.trace else None
        r = run_cli(_run_args(a, w, opts, d / "out", trace=trace))
        code = assert_clean_exit(r, [a, w], _option_names(opts))
        if code == 2:
            assert "cannot be mapped" in stderr_of(r), stderr_of(r)
            return
        check_report(d / "out", r, opts.fmt, arch, case, opts.selected, trace)


@fuzz_settings(quick_examples=40)
@given(arch=archs(roomy=True), case=workloads(), data=st.data())
def test_valid_fixed_mapping(arch, case, data):
    """A mapping that obeys the dataflow and the array on roomy buffers is accepted and used as given."""
    opts = data.draw(cli_options(case), label="options")
    df = effective_dataflow(opts, arch)
    mp = data.draw(valid_mappings(case, arch, df), label="mapping")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        a, w, m = write_file(d, "arch.yaml", arch), write_file(d, "net.yaml", case.data), write_file(d, "map.yaml", mp)
        r = run_cli(_run_args(a, w, opts, d / "out", mapping=m))
        assert_clean_exit(r, [a, w, m], _option_names(opts))
        assert r.exit_code == 0, stderr_of(r)
        report = check_report(d / "out", r, opts.fmt, arch, case, opts.selected)
        for l in report["layers"]:
            spec = mp["layers"].get(l["name"])
            if spec is None:
                continue
            assert l["search"]["fixed_mapping"] is True
            # the mapping file uses the fixed form's keys; the report names the slots after the
            # translated arch's levels (RF, GLB with its fan-out, DRAM)
            slot_of = slot_of_old_key(arch)
            want = {slot_of[lvl]: {k: v for k, v in spec.get(lvl, {}).items() if v > 1}
                    for lvl in ("dram", "glb", "rows", "cols", "rf")}
            # a 1x1 array has no GLB fan-out slots, so compare the slots that hold factors
            got_f = {k: v for k, v in l["mapping"]["factors"].items() if v}
            assert got_f == {k: v for k, v in want.items() if v}, (l["name"], l["mapping"]["factors"], want)
            for lvl, order in spec.get("orders", {}).items():
                slot = slot_of[lvl]
                listed = [x for x in order if want[slot].get(x, 1) > 1]
                got = [x for x in l["mapping"]["orders"][slot] if x in order]
                assert got == listed, (l["name"], lvl, got, listed)


@fuzz_settings(quick_examples=40)
@given(arch=archs(roomy=True), case=workloads(), data=st.data())
def test_invalid_fixed_mapping(arch, case, data):
    """A mapping with one breaking change is rejected: exit 2 naming the mapping file."""
    opts = data.draw(cli_options(case), label="options")
    opts.layers, opts.selected = None, [l.name for l in case.mac_layers]  # every mapped layer is checked
    df = effective_dataflow(opts, arch)
    mp, kind = data.draw(invalid_mappings(case, arch, df), label="mapping")
    note(f"breakage: {kind}")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        a, w, m = write_file(d, "arch.yaml", arch), write_file(d, "net.yaml", case.data), write_file(d, "map.yaml", mp)
        r = run_cli(_run_args(a, w, opts, d / "out", mapping=m))
        assert_clean_exit(r, [a, w, m], [])
        assert r.exit_code == 2, f"{kind}: accepted"
        assert m in stderr_of(r), stderr_of(r)


@fuzz_settings(quick_examples=200)
@given(arch=archs(), case=workloads(), data=st.data())
def test_any_input(arch, case, data):
    """Any input, valid or mutated (wrong types, extreme numbers, deep nesting, alias bombs, bad bytes):
    exit 0 with a sound report or exit 2 with ``error:`` naming the file; never a traceback or a hang."""
    opts = data.draw(cli_options(case), label="options")
    mp = None
    if data.draw(st.integers(0, 3), label="with mapping") == 3:
        mp = data.draw(valid_mappings(case, arch, effective_dataflow(opts, arch)), label="mapping")
    which = data.draw(st.sampled_from(["arch", "workload", "mapping", "all"] if mp else ["arch", "workload", "both"]),
                      label="mutate")
    arch_txt, arch_m = (data.draw(mutated_text(arch), label="arch mutations") if which in ("arch", "all", "both")
                        else (arch, []))
    wl_txt, wl_m = (data.draw(mutated_text(case.data), label="workload mutations")
                    if which in ("workload", "all", "both") else (case.data, []))
    map_txt, map_m = (data.draw(mutated_text(mp), label="mapping mutations") if mp and which in ("mapping", "all")
                      else (mp, []))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        a, w = write_file(d, "arch.yaml", arch_txt), write_file(d, "net.yaml", wl_txt)
        m = write_file(d, "map.yaml", map_txt) if mp is not None else None
        trace = d / "trace" if opts.trace else None
        r = run_cli(_run_args(a, w, opts, d / "out", mapping=m, trace=trace))
        assert_clean_exit(r, [f for f in (a, w, m) if f], _option_names(opts))
        if r.exit_code == 0:
            check_report(d / "out", r, opts.fmt, None if arch_m else arch,
                         None if (wl_m or map_m) else case, opts.selected, trace)


@fuzz_settings(quick_examples=20)
@given(arch=archs(), case=workloads(min_mac_layers=2), data=st.data())
def test_deterministic(arch, case, data):
    """The same inputs twice give the same report.json and layers.csv (wall times aside)."""
    opts = data.draw(cli_options(case), label="options")
    opts.trace = False
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        a, w = write_file(d, "arch.yaml", arch), write_file(d, "net.yaml", case.data)
        outs = []
        for i in range(2):
            r = run_cli(_run_args(a, w, opts, d / f"out{i}"))
            assert_clean_exit(r, [a, w], _option_names(opts))
            outs.append((r.exit_code, stderr_of(r)))
            if r.exit_code == 2:
                break
        if outs[0][0] == 2:
            return
        reports = [_drop_wall_times(strict_json((d / f"out{i}" / "report.json").read_text())) for i in range(2)]
        assert reports[0] == reports[1]
        assert (d / "out0" / "layers.csv").read_text() == (d / "out1" / "layers.csv").read_text()


@fuzz_settings(quick_examples=3, long_examples=25)
@given(arch=archs(), case=workloads(min_mac_layers=3), data=st.data())
def test_jobs_do_not_change_results(arch, case, data):
    """``--jobs 1`` and ``--jobs 2`` give the same report.json (wall times aside)."""
    opts = data.draw(cli_options(case), label="options")
    opts.trace, opts.layers, opts.selected = False, None, [l.name for l in case.mac_layers]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        a, w = write_file(d, "arch.yaml", arch), write_file(d, "net.yaml", case.data)
        codes = []
        for jobs in (1, 2):
            r = run_cli(_run_args(a, w, opts, d / f"out{jobs}", jobs=jobs))
            codes.append(assert_clean_exit(r, [a, w], _option_names(opts)))
        assert codes[0] == codes[1], codes
        if codes[0] == 0:
            r1, r2 = (_drop_wall_times(strict_json((d / f"out{j}" / "report.json").read_text())) for j in (1, 2))
            assert r1 == r2
