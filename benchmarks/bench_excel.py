"""Reading an Excel workbook dataset: python-calamine (evalkit's reader) against openpyxl.

Reproduce: ``.venv/bin/python benchmarks/bench_excel.py`` (a few minutes; files go to
``/tmp/evalkit-excel-bench``, never into git).  The workbook is a province's whole dataset
(``evalkit generate --scale province --province 44``: 2,000 apps, 357,373 panel scores) written
as an Excel user's workbook: date cells, numbers, text.  A national dataset does not fit in
a workbook (4.46 million panel scores; a sheet holds 1,048,576 rows).

Each reader runs in a fresh process (wall and CPU seconds, peak RSS):

* ``load_dataset`` on the CSV folder (the reference);
* ``load_dataset`` on the workbook (calamine, the sheet XML scanned for formulas and error
  cells, each cell turned into the CSV reader's text, then the same checks);
* calamine alone (every sheet's values as Python objects);
* openpyxl read-only alone (every sheet's values, ``values_only``): the floor of an openpyxl
  reader, before any conversion.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path("/tmp/evalkit-excel-bench")


def _prepare() -> tuple[Path, Path]:
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from evalkit.data import schema
    from evalkit.synth.generate import generate

    csv_dir, book = ROOT / "csv", ROOT / "province.xlsx"
    if not csv_dir.exists():
        generate(csv_dir, scale="province", province="44", seed=0, as_of="2026-09-01")
    if not book.exists():
        wb = Workbook(write_only=True)
        for name, table in schema.TABLES.items():
            frame = pd.read_csv(csv_dir / f"{name}.csv", dtype=str, keep_default_na=False)
            kinds = {c.name: c.kind for c in table.columns}
            ws = wb.create_sheet(name)
            ws.append(list(frame.columns))
            for row in frame.itertuples(index=False):
                cells = []
                for column, v in zip(frame.columns, row, strict=True):
                    kind = kinds.get(column)
                    if v == "":
                        cells.append(None)
                    elif kind == "date":
                        cells.append(dt.date.fromisoformat(v))
                    elif kind in ("int", "float"):
                        cells.append(float(v))
                    elif v[:1] in "=+-@":
                        cell = WriteOnlyCell(ws, v)
                        cell.data_type = "s"
                        cells.append(cell)
                    else:
                        cells.append(v)
                ws.append(cells)
        wb.save(book)
    return csv_dir, book


def _measure(step: str, path: str) -> dict:
    """Run one step in this process; return its times and peak RSS."""
    start, cpu = time.perf_counter(), time.process_time()
    rows = 0
    if step in ("csv", "workbook"):
        import evalkit

        ds = evalkit.load_dataset(path, as_of="2026-09-01")
        rows = sum(len(f) for f in ds.tables.values())
    elif step == "calamine":
        import python_calamine

        wb = python_calamine.CalamineWorkbook.from_path(path)
        for name in wb.sheet_names:
            rows += len(wb.get_sheet_by_name(name).to_python(skip_empty_area=False)) - 1
    elif step == "openpyxl":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            rows += sum(1 for _ in ws.iter_rows(values_only=True)) - 1
    return {"step": step, "wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
            "rows": rows, "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def main() -> None:
    if len(sys.argv) == 3:
        print(json.dumps(_measure(sys.argv[1], sys.argv[2])))
        return
    csv_dir, book = _prepare()
    print(f"workbook: {book} ({book.stat().st_size / 1e6:.1f} MB); load average "
          f"{Path('/proc/loadavg').read_text().split()[0]}")
    print("| reader | rows | wall (s) | CPU (s) | peak (GiB) |\n|---|---:|---:|---:|---:|")
    for step, path in (("csv", csv_dir), ("workbook", book), ("calamine", book), ("openpyxl", book)):
        res = subprocess.run([sys.executable, __file__, step, str(path)], check=True,
                             capture_output=True, text=True)
        m = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"| {step} | {m['rows']:,} | {m['wall']:.1f} | {m['cpu']:.1f} | {m['peak_gib']:.2f} |")


if __name__ == "__main__":
    main()
