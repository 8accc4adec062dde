"""``bazaar import products`` and ``bazaar export products``: bulk files from the command line.

Exit codes of an import: 0 when every row was imported, 1 when some rows were not (see the
error report), 2 when the file cannot be used at all (nothing was imported).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from bazaar.catalog.import_runs import DEFAULT_BATCH_SIZE, Format, ImportRun
from bazaar.catalog.model import ProductStatus
from bazaar.config import Settings
from bazaar.identity.model import Principal, Role
from bazaar.infra.logging import configure_logging

if TYPE_CHECKING:
    from bazaar.catalog.bulk import BatchOutcome

# Heavy modules (the container, the catalog) are imported inside the commands, as in cli.py,
# so `bazaar --help` stays fast.

import_app = typer.Typer(help="Import data in bulk.", no_args_is_help=True)
export_app = typer.Typer(help="Export data in bulk.", no_args_is_help=True)

# The audit log names this system actor for everything the commands write.
CLI_OPERATOR = Principal(kind="system", id="cli-import", role=Role.OPERATOR)
SHOWN_ERRORS = 10
_EXTENSIONS = {".jsonl": Format.JSONL, ".ndjson": Format.JSONL, ".csv": Format.CSV}

FormatOption = Annotated[
    Format | None,
    typer.Option("--format", help="jsonl or csv (default: from the file name)"),
]


def _stderr() -> Console:
    return Console(stderr=True)


def _format_for(path: Path, given: Format | None, default: Format | None = None) -> Format:
    fmt = given or _EXTENSIONS.get(path.suffix.lower()) or default
    if fmt is None:
        _stderr().print(f"error: cannot tell the format of {path}; use --format jsonl|csv")
        raise typer.Exit(2)
    return fmt


@import_app.command("products")
def import_products(
    file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file (docs/bulk.md)")],
    fmt: FormatOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Products written per transaction")
    ] = DEFAULT_BATCH_SIZE,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start over instead of resuming an interrupted run")
    ] = False,
) -> None:
    """Import products; rerunning the same file resumes after the last written batch."""
    from bazaar.bootstrap import build
    from bazaar.catalog.bulk import ImportBusy, fingerprint
    from bazaar.catalog.importing import UnusableInput

    console = _stderr()
    fmt = _format_for(file, fmt)
    try:
        source = file.open("rb")
    except OSError as exc:
        console.print(f"error: cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from exc
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    container = build(settings)
    report_path = file.with_name(file.name + ".errors.jsonl")
    with source, contextlib.ExitStack() as stack:
        stack.callback(container.close)
        bulk = container.bulk
        run_key = "file:" + fingerprint(source)
        source.seek(0)
        previous = None if restart else bulk.unfinished_run(run_key)
        if previous is not None:
            console.print(
                f"resuming after line {previous.lines_done} "
                f"({previous.created} products already created; --restart to start over)"
            )
        report = stack.enter_context(report_path.open("a" if previous else "w", encoding="utf-8"))
        progress = stack.enter_context(
            Progress(
                SpinnerColumn(),
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                console=console,
            )
        )
        task = progress.add_task("importing", total=file.stat().st_size)

        def on_batch(run: ImportRun, outcome: BatchOutcome) -> None:
            for error in outcome.errors:
                report.write(json.dumps(error.to_dict(), ensure_ascii=False) + "\n")
            report.flush()
            progress.update(
                task,
                completed=source.tell(),
                description=f"{run.created} created, {run.failed} failed",
            )

        try:
            run = bulk.import_products(
                CLI_OPERATOR,
                source,
                fmt,
                run_key=run_key,
                fingerprint=run_key.removeprefix("file:"),
                batch_size=batch_size,
                restart=restart,
                on_batch=on_batch,
            )
        except UnusableInput as exc:
            progress.stop()
            console.print(f"error: {file} cannot be imported: {exc.detail}")
            for e in exc.errors:
                console.print(f"  {e.field}: {e.message}")
            raise typer.Exit(2) from exc
        except ImportBusy as exc:
            progress.stop()
            console.print(f"error: {exc.detail}")
            raise typer.Exit(1) from exc
        except KeyboardInterrupt:
            progress.stop()
            console.print("interrupted: run the same command again to resume")
            raise typer.Exit(130) from None
        progress.update(task, completed=file.stat().st_size)
    if run.error_count == 0:
        report_path.unlink(missing_ok=True)
    typer.echo(
        f"{run.created} products created, {run.failed} failed, {run.skipped} skipped "
        f"(valid, in a batch that had a bad row), {run.lines_done} lines read"
    )
    if run.error_count:
        console.print(f"{run.error_count} errors; the report is in {report_path}")
        for row in run.errors[:SHOWN_ERRORS]:
            console.print(f"  line {row.line}, {row.field}: {row.reason}", markup=False)
        if run.error_count > SHOWN_ERRORS:
            console.print(f"  … and {run.error_count - SHOWN_ERRORS} more")
    raise typer.Exit(0 if run.failed == 0 and run.skipped == 0 else 1)


@export_app.command("products")
def export_products(
    fmt: FormatOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")
    ] = None,
    status: Annotated[
        list[ProductStatus] | None,
        typer.Option("--status", help="Only products with this status (repeatable)"),
    ] = None,
) -> None:
    """Export products as JSONL or CSV, in the format `bazaar import products` reads."""
    from bazaar.bootstrap import build

    fmt = _format_for(output, fmt, Format.JSONL) if output else (fmt or Format.JSONL)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    container = build(settings)
    console = _stderr()
    statuses = status or list(ProductStatus)
    tmp = output.with_name(f".{output.name}.part") if output else None
    try:
        with contextlib.ExitStack() as stack:
            out: IO[bytes] = stack.enter_context(tmp.open("wb")) if tmp else sys.stdout.buffer
            progress = stack.enter_context(
                Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console)
            )
            task = progress.add_task("exporting")
            count = container.bulk.export_products(
                CLI_OPERATOR,
                out,
                fmt,
                statuses,
                tick=lambda n: progress.update(task, description=f"{n} products"),
            )
            out.flush()
        if tmp is not None and output is not None:
            os.replace(tmp, output)  # readers never see a half-written export
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        container.close()
    console.print(f"{count} products exported" + (f" to {output}" if output else ""))
