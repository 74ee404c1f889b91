"""Report stage: results -> versioned JSON report, CSV and terminal table."""

from .build import SCHEMA, build_report, csv_fields, energy_entries, layer_record, layer_report, make_report, to_csv
from .records import LayerReport, Report, Totals, UnmappedLayer
from .table import render_table

__all__ = ["LayerReport", "Report", "Totals", "UnmappedLayer", "SCHEMA", "build_report", "csv_fields", "energy_entries",
           "layer_record", "layer_report", "make_report", "render_table", "to_csv"]
