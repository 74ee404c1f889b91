"""Report stage: results -> versioned JSON report, CSV and terminal table."""

from .build import SCHEMA, build_report, csv_fields, energy_entries, layer_record, to_csv
from .table import render_table

__all__ = ["csv_fields", "energy_entries", "SCHEMA", "build_report", "layer_record", "to_csv", "render_table"]
