"""ETL for the Weltoffene-Kommune programme monitor: input files → one DuckDB database."""
