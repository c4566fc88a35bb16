"""Publishing: the report notebooks run and rendered to offline HTML, staging and atomic moves,
local workers or Dask, the national overview and the report display helpers.  Imports every
layer below it."""
