"""NAP-I report: definitions, public protection and the files (XLSX, CSV, charts, PDF).

`definitions` says what every figure means and holds the report as handed to pages and exports;
`xlsx`, `csv`, `charts` and `pdf` write the files; `export` writes them all at once;
`python -m dashboard.report` is the command line. Everything comes from one `Report`, so the
pages, the files and the command line show the same numbers.
"""
