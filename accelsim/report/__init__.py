"""Report stage: results -> versioned JSON report, CSV and terminal table."""

from .build import CSV_FIELDS, SCHEMA, build_report, layer_record, to_csv
from .table import render_table

__all__ = ["CSV_FIELDS", "SCHEMA", "build_report", "layer_record", "to_csv", "render_table"]
