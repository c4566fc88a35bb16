"""``evalkit explore``: the panel explorer served as a web page (Voilà)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evalkit import resources
from evalkit.cli.app import app, data_option, fail, lang_option, out_option, province_option, settings
from evalkit.errors import EvalkitError


@app.command("explore")
def explore_command(
    province: Optional[str] = province_option("Province code to start from (default: the workspace's, else 44)."),
    data: Optional[Path] = data_option("Dataset folder (default: the workspace's, else data/sample)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluation date YYYY-MM-DD (required unless "
                                        "--data is the sample: 2026-09-01)."),
    out: Optional[Path] = out_option("Published output root whose register gives bans and history, as for "
                                     "evalkit run (default: the workspace's, else none)."),
    port: int = typer.Option(8866, "--port", help="Port on 127.0.0.1."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser."),
    lang: Optional[str] = lang_option("the page"),
) -> None:
    """Serve the panel explorer: weights, method, caps and what-ifs on the province's real list rules.
    No code is shown; Ctrl-C stops it."""
    from evalkit.data import identifiers
    from evalkit.publish.config import SAMPLE_AS_OF
    from evalkit.publish.explorer import serve

    cfg = settings(province=province, data=data, out=out, lang=lang, as_of=as_of)
    province, data, out, lang, as_of = cfg.province or "44", cfg.data, cfg.out, cfg.lang or "zh", cfg.as_of
    if province not in identifiers.PROVINCE_CODES:
        fail(f"Error: --province must be one of {', '.join(identifiers.PROVINCE_CODES)}; got {province!r} instead.", 2)
    if lang not in ("zh", "en"):
        fail(f"Error: --lang must be 'zh' or 'en'; got {lang!r} instead.", 2)
    if not 1 <= port <= 65535:
        fail(f"Error: --port must be 1 … 65535; got {port} instead.", 2)
    if as_of is None and data is not None and Path(data).resolve() != resources.sample_dir().resolve():
        fail("Error: --as-of is required unless --data is the sample.", 2)
    typer.echo(f"starting the explorer of province {province} on http://127.0.0.1:{port}/ (Ctrl-C stops it)")
    try:
        serve(province, data if data is not None else resources.sample_dir(), as_of or SAMPLE_AS_OF, port=port,
              browser=not no_browser, out_dir=out, lang=lang, overlay=cfg.overlay)
    except EvalkitError as exc:
        for p in getattr(exc, "problems", []) or []:
            typer.echo(str(p), err=True)
        fail(f"Error: {exc}" if not getattr(exc, "problems", None) else "the explorer was not started.")
