"""Loading YAML files: bundled names or user paths, errors that name the file.

Bundled architectures, workloads and dataflows live in the top-level folders
``arch_configs/``, ``workloads/`` and ``dataflows/`` of the source tree; they
are installed as the packages ``accelsim.arch_configs`` etc. so a bare file
name (``eyeriss.yaml``) resolves from any working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError

BUNDLES = {
    "arch": "accelsim.arch_configs",
    "workload": "accelsim.workloads",
    "dataflow": "accelsim.dataflows",
}


def bundled_names(kind: str) -> list[str]:
    """Sorted file names of the bundled YAML files of one kind (``arch``, ``workload``, ``dataflow``)."""
    root = resources.files(BUNDLES[kind])
    return sorted(p.name for p in root.iterdir() if p.name.endswith((".yaml", ".yml")))


def resolve(name: str | Path, kind: str) -> tuple[str, str]:
    """Find a YAML file by path, or by bare name among the bundled files of ``kind``.

    A path that exists wins over a bundled file of the same name.  ``.yaml``
    may be omitted from a bundled name.

    Returns:
        (display name, file text).
    Raises:
        InputError: the file exists nowhere (the message lists bundled names).
    """
    p = Path(name)
    if p.is_file():
        try:
            return str(p), p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read file: {e}", source=str(p)) from None
    if p.is_dir():
        raise InputError("is a directory, expected a YAML file", source=str(p))
    if len(p.parts) == 1:
        root = resources.files(BUNDLES[kind])
        for cand in (p.name, p.name + ".yaml", p.name + ".yml"):
            f = root.joinpath(cand)
            if f.is_file():
                return cand, f.read_text(encoding="utf-8")
    raise InputError(
        f"no such file, and no bundled {kind} of that name "
        f"(bundled: {', '.join(bundled_names(kind))})",
        source=str(name),
    )


def load_yaml(name: str | Path, kind: str) -> tuple[str, Any]:
    """Resolve and parse a YAML file.  Returns (display name, parsed data).

    Raises:
        InputError: missing file, malformed YAML (with line and column), or an empty file.
    """
    src, text = resolve(name, kind)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"malformed YAML{where}: {problem}", source=src) from None
    if data is None:
        raise InputError("file is empty", source=src)
    return src, data


def validate(model: type[BaseModel], data: Any, source: str, prefix: str = "") -> Any:
    """Validate ``data`` against a pydantic model; turn the first error into an InputError.

    The field path in the message is dotted, with list indices, e.g.
    ``layers.3.kernel``; ``prefix`` is prepended.
    """
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        # an unknown field is usually a typo of a field reported "missing": name the typo first
        err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        loc = ".".join(str(x) for x in err["loc"] if _is_data_loc(x))
        field = ".".join(x for x in (prefix, loc) if x) or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "input" in err and err["type"] != "model_type" and repr(err["input"]) not in msg:
            msg = f"{msg} (got {err['input']!r})"
        raise InputError(msg, source=source, field=field) from None


def _is_data_loc(part) -> bool:
    """False for the tags pydantic adds to a location for union members and dict keys."""
    if isinstance(part, int):
        return True
    return bool(part) and part != "[key]" and "[" not in part and part not in (
        "int", "str", "float", "bool", "list", "dict") and not part.startswith("function-")
