"""Loading YAML files safely: bundled names or user paths, errors that name the file.

Every YAML file accelsim reads (arch, workload, dataflow, mapping) goes
through :func:`load_yaml`, which

* resolves the name: a bare name (``eyeriss.yaml``, ``rs``) means the bundled
  file of that kind when one exists; anything written as a path
  (``./rs.yaml``, ``dir/x.yaml``, ``/abs/x.yaml``) or a bare name with no
  bundled file of that name is a file, relative to the working directory or,
  for a name written inside another file, to that file's folder;
* reads only regular files of at most :data:`~accelsim.limits.MAX_FILE_BYTES`,
  as UTF-8 (a directory, a named pipe, a device, a symlink loop, a missing
  file or non-UTF-8 bytes each get their own message);
* parses with PyYAML's safe loader (no tags are executed), rejecting
  duplicate keys (naming both lines), nesting deeper than
  :data:`~accelsim.limits.MAX_YAML_DEPTH`, more than
  :data:`~accelsim.limits.MAX_YAML_NODES` nodes once aliases are expanded
  (billion-laughs bombs), integers above 2**1024, several documents, an empty
  file and a top level that is not a mapping of fields.

The parsed data is then validated against its schema by
:func:`accelsim.validation.validate`.

Bundled architectures, workloads and dataflows live in the top-level folders
``arch_configs/``, ``workloads/`` and ``dataflows/`` of the source tree,
installed as the packages ``accelsim.arch_configs`` etc.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, InputWarning, short
from .validation import type_word
from .limits import MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

BUNDLES = {
    "arch": "accelsim.arch_configs",
    "workload": "accelsim.workloads",
    "dataflow": "accelsim.dataflows",
}

#: Top-level fields that tell the kinds of file apart (for "this looks like a ... file").
_MARKERS = {
    "arch": ("pe_array", "glb", "rf", "noc"),
    "dataflow": ("stationary", "rf_dims", "spatial"),
    "workload": ("layers", "input", "batch"),
}
_KIND_TEXT = {"arch": "an arch file", "workload": "a workload file", "dataflow": "a dataflow file",
              "mapping": "a mapping file", "topology": "a SCALE-Sim topology CSV", "ONNX model": "an ONNX model"}


@dataclass(frozen=True)
class SourceFile:
    """A resolved input file.

    Attributes:
        display: the name as the user gave it (bundled: the bundled file name).
        path: absolute path of the file read.
        bundled: True for a file shipped with accelsim.
        text: its contents (UTF-8 decoded).
    """

    display: str
    path: str
    bundled: bool
    text: str


def bundled_names(kind: str) -> list[str]:
    """Sorted file names of the bundled YAML files of one kind (``arch``, ``workload``, ``dataflow``)."""
    if kind not in BUNDLES:
        return []
    root = resources.files(BUNDLES[kind])
    return sorted(p.name for p in root.iterdir() if p.name.endswith((".yaml", ".yml")))


def _bundled(name: str, kind: str):
    if kind not in BUNDLES or not name or name.startswith("."):
        return None
    root = resources.files(BUNDLES[kind])
    for cand in (name, name + ".yaml", name + ".yml"):
        f = root.joinpath(cand)
        if f.is_file():
            return cand, f
    return None


def is_path(name: str) -> bool:
    """True when ``name`` is written as a path (has a folder part) rather than a bare name."""
    return os.sep in name or "/" in name or (os.altsep is not None and os.altsep in name)


def resolve(name: str | Path, kind: str, base: str | Path | None = None) -> SourceFile:
    """Find and read a YAML file: a bundled name of ``kind`` or a path.

    A bare name means the bundled file when one exists (``.yaml`` may be
    left out); a local file of the same name is then ignored, with an
    :class:`~accelsim.errors.InputWarning` saying how to pick it
    (``./name``).  Otherwise the name is a path, relative to ``base`` (the
    folder of the file it was written in) or to the working directory.

    Raises:
        InputError: missing, unreadable, not a regular file, too large, or not UTF-8;
            the message lists the bundled names when nothing was found.
    """
    name = str(name)
    if not name.strip():
        raise InputError(f"empty file name; give {_KIND_TEXT.get(kind, 'a YAML file')} path or bundled name")
    if "\x00" in name:
        raise InputError("a file name cannot contain a NUL character", source=short(name, quote=False))
    p = Path(name).expanduser()
    if not p.is_absolute() and base is not None:
        p = Path(base) / p
    if not is_path(name):
        hit = _bundled(name, kind)
        if hit is not None:
            fname, f = hit
            local = next((c for c in (p, p.with_name(fname)) if c.is_file()), None)
            if local is not None:
                warnings.warn(InputWarning(
                    f"{short(name)} means the bundled {kind} {fname}; the file {short(str(local), quote=False)} "
                    f"is not used: write ./{local.name} to use it"))
            return SourceFile(fname, str(f), True, f.read_text(encoding="utf-8"))
    return SourceFile(name, str(p.absolute()), False, _read_text(p, name, kind))


def read_binary(name: str | Path, kind: str, limit: int, base: str | Path | None = None) -> tuple[str, str, bytes]:
    """Read a binary input file (an ONNX model) given as a path: ``(display name, absolute path, bytes)``,
    with :func:`resolve`'s checks (a regular file of at most ``limit`` bytes).

    Raises:
        InputError: missing, unreadable, not a regular file or too large.
    """
    name = str(name)
    if not name.strip() or "\x00" in name:
        raise InputError("empty or invalid file name", source=short(name, quote=False))
    p = Path(name).expanduser()
    if not p.is_absolute() and base is not None:
        p = Path(base) / p
    return name, str(p.absolute()), _read_raw(p, name, kind, limit)


def _read_text(p: Path, display: str, kind: str) -> str:
    raw = _read_raw(p, display, kind)
    expected = _KIND_TEXT.get(kind, "a YAML file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                         f"expected {expected} (YAML) saved as UTF-8", source=display) from None


def _read_raw(p: Path, display: str, kind: str, limit: int = MAX_FILE_BYTES) -> bytes:
    try:
        st = os.stat(p)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError("is a symbolic link loop, not a file", source=display) from None
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            if os.path.lexists(p):
                raise InputError("is a broken symbolic link (its target does not exist)", source=display) from None
            hint = ""
            if kind in BUNDLES and not is_path(display):
                hint = f", and no bundled {kind} of that name (bundled: {', '.join(bundled_names(kind))})"
            what = f"{kind} file" if kind in _KIND_TEXT else "file"
            raise InputError(f"no such file: no {what} at this path{hint}", source=display) from None
        raise InputError(f"cannot read: {e.strerror}", source=display) from None
    expected = _KIND_TEXT.get(kind, "a YAML file")
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"is a directory; expected {expected} (YAML)", source=display)
    if not stat.S_ISREG(st.st_mode):
        what = ("a named pipe" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise InputError(f"is {what}, not a regular file; expected {expected} (YAML)", source=display)
    if st.st_size > limit:
        raise InputError(f"is {st.st_size:,} bytes; {kind} files are limited to {limit:,} bytes", source=display)
    try:
        with open(p, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", source=display) from None


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth cap and duplicate-key detection."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            mark = self.peek_event().start_mark
            raise _Limit(f"nested deeper than {MAX_YAML_DEPTH} levels at line {mark.line + 1} "
                         f"(the limit guards against runaway input)")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # unhashable key: PyYAML reports it below
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise _Limit(f"key {short(key)} is given twice (lines {first} and {line}); "
                                 "keep one of them")
                seen[key] = line
        return super().construct_mapping(node, deep)


    def construct_yaml_int(self, node):
        try:
            value = super().construct_yaml_int(node)
        except ValueError:  # Python's limit on int digits (4,300): a traceback before
            value = None
        # a hex, octal or binary literal converts at any length, but could not be printed in a message
        if value is None or abs(value).bit_length() > _MAX_INT_BITS:
            raise _Limit(f"the number at line {node.start_mark.line + 1} has {len(str(node.value)):,} "
                         "characters; numbers that long are not accepted (no size comes near)") from None
        return value


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


#: Integers above 2**1024 (309 decimal digits) are refused at load: every bound is far smaller, and Python
#: cannot print an int of more than 4,300 digits in a message.
_MAX_INT_BITS = 1024


class _Limit(Exception):
    """A structural limit of the loader was hit (message for the user)."""


def _expanded_size(node, memo: dict) -> int:
    """Nodes of the document with every alias expanded (memoised per node, so shared subtrees cost once)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a recursive alias counts once (PyYAML rejects it at construction)
    n = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            n += _expanded_size(child, memo)
            if n > MAX_YAML_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            n += _expanded_size(k, memo) + _expanded_size(v, memo)
            if n > MAX_YAML_NODES:
                break
    memo[key] = n
    return n


def parse_yaml(text: str, display: str, expected: str = "a YAML file") -> Any:
    """Parse one YAML document safely (see module doc).  Returns the data (never ``None``).

    Raises:
        InputError: malformed YAML (line and column), a limit exceeded, a
            duplicate key, several documents, or an empty file.
    """
    loader = None
    try:
        loader = _Loader(text)  # PyYAML's reader rejects control characters here
        try:
            node = loader.get_single_node()
        except yaml.composer.ComposerError as e:
            if "single document" in str(e.context or ""):
                line = e.problem_mark.line + 1 if e.problem_mark else "?"
                raise InputError(f"holds more than one YAML document (another one starts at line {line}); "
                                 f"expected {expected} as one document", source=display) from None
            raise
        if node is None:
            raise InputError(f"file is empty; expected {expected}", source=display)
        if _expanded_size(node, {}) > MAX_YAML_NODES:
            raise InputError(f"expands to more than {MAX_YAML_NODES:,} YAML nodes once aliases (*refs) are "
                             "expanded; the limit guards against alias bombs", source=display)
        return loader.construct_document(node)
    except _Limit as e:
        raise InputError(str(e), source=display) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"malformed YAML{where}: {short(problem, 200, quote=False)}", source=display) from None
    except RecursionError:  # defensive: the depth cap should make this unreachable
        raise InputError(f"nested too deeply (limit {MAX_YAML_DEPTH} levels)", source=display) from None
    finally:
        if loader is not None:
            loader.dispose()


def guess_kind(data: Any) -> str | None:
    """Which kind of accelsim file ``data`` looks like (``arch``, ``workload``, ``dataflow``, ``mapping``)."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("layers"), dict) and "input" not in data:
        return "mapping"
    best, score = None, 0
    for kind, keys in _MARKERS.items():
        s = sum(k in data for k in keys)
        if s > score:
            best, score = kind, s
    return best


def load_yaml(name: str | Path, kind: str, base: str | Path | None = None) -> tuple[SourceFile, dict]:
    """Resolve, read and parse a YAML file of one kind.  Returns (the file, its top-level mapping).

    ``kind`` is ``arch``, ``workload``, ``dataflow`` or ``mapping`` (bundled
    names exist for the first three).  ``base``: folder that relative paths
    start from (the folder of the file the name was written in).

    Raises:
        InputError: see :func:`resolve` and :func:`parse_yaml`; also a top
            level that is not a mapping, or a file that looks like another kind.
    """
    f = resolve(name, kind, base)
    expected = _KIND_TEXT.get(kind, "a YAML file")
    data = parse_yaml(f.text, f.display, expected)
    if not isinstance(data, dict):
        raise InputError(f"expected {expected}: a mapping of fields at the top level, got "
                         f"{type_word(data)}", source=f.display)
    other = guess_kind(data)
    own = sum(k in data for k in _MARKERS.get(kind, ()))
    if kind == "workload" and other == "mapping":
        own = 0
    if other and other != kind and own == 0:
        raise InputError(f"looks like {_KIND_TEXT[other]}, but {expected} is expected here", source=f.display)
    return f, data


def warn(message: str) -> None:
    """Emit an :class:`InputWarning` (the CLI prints it as ``warning: ...``)."""
    warnings.warn(InputWarning(message))
