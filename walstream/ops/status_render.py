"""``walstream status`` for people: the status document (:mod:`.status`) as rich tables."""

from __future__ import annotations

import json
from typing import Any

from .status import duration_text


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit} ({n} B)"
        value /= 1024
    return str(n)


def render(doc: dict[str, Any], console: Any = None) -> None:
    """Print the status document as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    colour = {"ok": "green", "warning": "yellow", "critical": "red"}[doc["status"]]
    server = doc["server"]
    slot = doc["slot"]
    if server is None:
        console.print(f"[bold {colour}]{doc['status'].upper()}[/]  (source not checked: no --dsn)")
    else:
        role = "writer" if server["is_writer"] else "standby (in recovery)"
        console.print(
            f"[bold {colour}]{doc['status'].upper()}[/]  PostgreSQL {server['version']} "
            f"({role}), database {server['database']}, current WAL {server['current_wal_lsn']}",
            soft_wrap=True,
        )
    for problem in doc["problems"]:
        pc = "red" if problem["severity"] == "critical" else "yellow"
        console.print(f"  [{pc}]{problem['severity']}[/]: {problem['message']}", soft_wrap=True)
    if slot is not None:
        table = Table(title=f"slot {slot['name']}", show_header=False, title_justify="left")
        table.add_column("field", style="bold")
        table.add_column("value")
        active = f"yes (pid {slot['active_pid']})" if slot["active"] else "no"
        rows = [
            ("active", active),
            ("plugin", slot["plugin"] or "-"),
            ("restart_lsn", slot["restart_lsn"] or "-"),
            ("confirmed_flush_lsn", slot["confirmed_flush_lsn"] or "-"),
            ("lag (unconfirmed WAL)", _size(slot["lag_bytes"])),
            ("retained WAL", _size(slot["retained_bytes"])),
            ("lag seconds", duration_text(slot["lag_seconds"])),
            ("wal_status", slot["wal_status"] or "-"),
            ("safe_wal_size", _size(slot["safe_wal_size"])),
        ]
        if slot["inactive_since"]:
            rows.append(("inactive since", slot["inactive_since"]))
        if slot["invalidation_reason"]:
            rows.append(("invalidation reason", slot["invalidation_reason"]))
        consumer = slot["consumer"]
        if consumer:
            rows.append(
                ("consumer", f"{consumer['application_name']} {consumer['client_addr'] or ''}")
            )
            rows.append(("consumer flush_lsn", consumer["flush_lsn"] or "-"))
        for name, value in rows:
            table.add_row(name, str(value))
        console.print(table)
    checkpoint = doc["checkpoint"]
    if checkpoint is not None:
        if not checkpoint["found"]:
            console.print(f"checkpoint: none at {checkpoint['location']}", soft_wrap=True)
        else:
            console.print(
                f"checkpoint: acked {checkpoint['acked_lsn']} at {checkpoint['written_at']} "
                f"({duration_text(checkpoint['age_seconds'])} ago), newest stored change "
                f"{duration_text(checkpoint['freshness_seconds'])} old",
                soft_wrap=True,
            )
            for name, entry in checkpoint["tables"].items():
                snap = entry.get("snapshot")
                if isinstance(snap, dict):
                    snap_text = str(snap.get("state", json.dumps(snap, sort_keys=True)))
                else:
                    snap_text = "-" if snap is None else str(snap)
                console.print(
                    f"  [bold]{name}[/]: {entry['rows']} rows in {entry['files']} files, last "
                    f"commit {entry['last_commit_time'] or '-'} "
                    f"({duration_text(entry['freshness_seconds'])} ago), snapshot {snap_text}",
                    soft_wrap=True,
                )
                console.print(
                    f"    last file {entry['last_file'] or '-'} ({entry['last_file_rows']} rows, "
                    f"LSN {entry['first_lsn']} .. {entry['last_lsn']})",
                    soft_wrap=True,
                )
    warehouse = doc.get("warehouse")
    if warehouse is not None:
        _render_warehouse(warehouse, console)


def _count(value: int | None, unit: str = "") -> str:
    return "-" if value is None else f"{value}{unit}"


def _path_row(entry: dict[str, Any]) -> list[str]:
    """One table's path from written to merged, as the cells of the warehouse table."""
    written = (
        "-"
        if entry.get("files_written") is None
        else f"{entry['files_written']} / {entry['rows_written']}"
    )
    loaded = (
        "-"
        if entry.get("files_loaded") is None
        else f"{entry['files_loaded']} / {entry['rows_loaded']}"
    )
    unloaded = entry.get("files_unloaded")
    late = _count(unloaded)
    if unloaded:
        late = f"[yellow]{unloaded}[/] ({duration_text(entry['unloaded_seconds'])})"
    failed = entry.get("failed_files")
    failed_text = f"[red]{failed}[/]" if failed else _count(failed)
    task = entry.get("task")
    task_text = "-"
    if task is not None:
        state = str(task["last_state"] or "-")
        bad = state.startswith("FAILED")
        task_text = f"[red]{state}[/]" if bad else state
        if task["failed_runs"]:
            task_text += f" ({task['failed_runs']}/{task['runs']} failed)"
    pipe = entry.get("pipe")
    pipe_text = "-" if pipe is None else str(pipe.get("state") or "?")
    if pipe is not None and pipe.get("state") not in (None, "RUNNING"):
        pipe_text = f"[yellow]{pipe_text}[/]"
    if entry["state"] == "loading":
        mark = f"loading ({entry['load_lsn']})"
    elif entry["waiting_for"] is not None:
        mark = f"{entry['watermark_lsn'] or 'none'} [yellow]waiting[/]"
    else:
        mark = entry["watermark_lsn"] or "none yet"
    return [
        written,
        loaded,
        late,
        failed_text,
        pipe_text,
        task_text,
        mark,
        duration_text(entry.get("freshness_seconds")),
        _size(entry.get("watermark_lag_bytes")).split(" (")[0],
    ]


def _render_warehouse(warehouse: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    console.print(
        f"warehouse {warehouse['source']}: last load {warehouse['last_load_at'] or '-'}",
        soft_wrap=True,
    )
    if not warehouse["tables"]:
        console.print("  no table loaded yet")
        return
    table = Table(title="written -> loaded -> merged, per table", title_justify="left")
    for column in (
        "table",
        "written files/rows",
        "loaded files/rows",
        "not loaded",
        "failed",
        "pipe",
        "last task",
        "watermark",
        "FINAL age",
        "behind slot",
    ):
        table.add_column(column, overflow="fold")
    for name, entry in warehouse["tables"].items():
        table.add_row(name, *_path_row(entry))
    console.print(table)
    for name, entry in warehouse["tables"].items():
        if entry["state"] == "loading":
            console.print(
                f"  [bold]{name}[/]: [green]loading[/] its full load at {entry['load_lsn']} in "
                f"slices (merged up to _walstream_seq {entry['load_seq']}), no watermark until "
                "the last slice",
                soft_wrap=True,
            )
        elif entry["waiting_for"] is not None:
            console.print(
                f"  [bold]{name}[/]: watermark {entry['watermark_lsn'] or 'none yet'}, "
                f"[yellow]waiting {duration_text(entry['waiting_seconds'])}[/] "
                f"(since {entry['waiting_since']}) for file {entry['waiting_for']}",
                soft_wrap=True,
            )
        for failure in entry.get("failures") or []:
            console.print(
                f"  [bold]{name}[/]: [red]failed to load[/] {failure['file']} at "
                f"{failure['failed_at']}: {failure['error']}",
                soft_wrap=True,
            )
        task = entry.get("task")
        if task is not None and task.get("last_error"):
            console.print(
                f"  [bold]{name}[/]: [red]last task run failed[/] "
                f"({task['last_scheduled_at']}): {task['last_error']}",
                soft_wrap=True,
            )
        if entry.get("final_commit_time"):
            console.print(
                f"  [bold]{name}[/]: FINAL = source as of commit {entry['final_commit_time']}",
                soft_wrap=True,
            )
