"""Bundled workload files (YAML); loaded by bare name via accelsim.files.resolve."""
