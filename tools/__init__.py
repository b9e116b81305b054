"""Developer tools beside the data path: the demo-data generator and the geography builder.

`etl/` holds only the path from input files to the database; these make inputs and reference
files for it.
"""
