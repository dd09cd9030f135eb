"""What every command group shares: the options, the control plane, errors and output.

Every command that reads or changes the configuration takes `--data-dir` and `--database-url`,
builds the one `Settings` object from them (and the `SEGUE_*` environment) and works through
`ControlPlane(store)` acting as `OPERATOR`, so roles, plans and settings validation hold as
they do for the REST API. `--json` prints the control plane's views, one object per line.
"""

from __future__ import annotations

import json
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterable, Iterator, Literal, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from segue.config import Settings
from segue.errors import ConfigError, SegueError


def error_line(error: SegueError) -> str:
    """The error's message on one line."""
    return " ".join(error.message.split())


class SegueGroup(TyperGroup):
    """Turns a SegueError raised by any command into a red line and exit status 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SegueError as error:
            fail(error_line(error))


def fail(message: str) -> None:
    """Print `error: MESSAGE` in red on stderr and end with exit status 1."""
    Console(stderr=True, soft_wrap=True).print(f"error: {message}", style="red", markup=False)
    raise typer.Exit(1)


def group(help: str) -> typer.Typer:
    """A command group; `segue GROUP` alone prints its help."""
    return typer.Typer(help=help, no_args_is_help=True, add_completion=False)


# ---- options shared by the commands ----------------------------------------------------------

DataDir = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        envvar="SEGUE_DATA_DIR",
        show_default="./segue-data",
        help="Directory holding Segue's data (config.db, the event log).",
    ),
]
DatabaseUrl = Annotated[
    Optional[str],
    typer.Option(
        "--database-url",
        envvar="SEGUE_DATABASE_URL",
        show_default="SQLite file config.db in the data dir",
        help="Config store URL: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON, one object per line.")]
SettingFlags = Annotated[
    Optional[list[str]],
    typer.Option(
        "--setting",
        metavar="KEY=VALUE",
        help="A setting (repeatable). VALUE is parsed as JSON when it parses (numbers, true/false, "
        "objects, null to remove), else taken as a string.",
    ),
]
SettingsJson = Annotated[
    Optional[str],
    typer.Option(
        "--settings-json",
        metavar="JSON",
        help="Settings as a JSON object; `-` reads it from stdin, `@FILE` from a file "
        "(keeps secrets out of the process list). --setting values win over it.",
    ),
]
Mode = Literal["cloud", "device"]
Role = Literal["owner", "member", "read_only"]


def load_settings(data_dir: Path | None, database_url: str | None, **more: Any) -> Settings:
    try:
        return Settings.load(data_dir=data_dir, database_url=database_url, **more)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"invalid setting: {error}") from error


@contextmanager
def open_store(settings: Settings) -> Iterator[Any]:
    from segue.store import Store

    store = Store.open(settings)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def control_plane(data_dir: Path | None, database_url: str | None) -> Iterator[Any]:
    """A `ControlPlane` over the config store that the options point at."""
    from segue.control import ControlPlane

    settings = load_settings(data_dir, database_url)
    with open_store(settings) as store:
        yield ControlPlane(store, allow_private_destinations=settings.allow_private_destinations)


def switch_child(kind: str, instance: str, child_id: str, enabled: bool, as_json: bool, data_dir: Path | None,
                 database_url: str | None) -> None:
    """Enable or disable a destination's filter or mapping (`kind`), then report it."""
    with control_plane(data_dir, database_url) as plane:
        view = getattr(plane, f"update_{kind}")(operator(), instance, child_id, enabled=enabled)
    label = view.get("title") or view.get("name")
    report(view, as_json, f"{'Enabled' if enabled else 'Disabled'} {kind} {bold(label)}.")


def operator() -> Any:
    """The actor every CLI change is made as: `OPERATOR`, a workspace owner."""
    from segue.control import OPERATOR

    return OPERATOR


# ---- settings from flags ---------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """JSON when `text` parses as JSON (42, true, {"a": 1}, null), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def settings_from_flags(pairs: Iterable[str] | None, settings_json: str | None) -> dict | None:
    """The settings given by --settings-json then --setting KEY=VALUE; None when neither was."""
    if not pairs and settings_json is None:
        return None
    values = _json_object(settings_json) if settings_json is not None else {}
    for pair in pairs or ():
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise ConfigError(f"--setting needs KEY=VALUE, got {pair!r}")
        values[key.strip()] = parse_value(value)
    return values


def _json_object(text: str) -> dict:
    return json_object_option(text, "--settings-json", '{"url": "https://..."}')


def json_object_option(text: str, flag: str, example: str) -> dict:
    """The JSON object an option gives: inline, `-` for stdin or `@FILE`; ConfigError naming `flag`."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as error:
            raise ConfigError(f"cannot read {flag} file {text[1:]!r}: {error.strerror}") from None
    try:
        values = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{flag} is not valid JSON: {error}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{flag} must be a JSON object, e.g. '{example}'")
    return values


_DURATION = re.compile(r"\s*(\d+)\s*([smhd]?)\s*", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | None) -> int | None:
    """Seconds from `3600`, `90m`, `12h` or `1d`; None stays None."""
    if text is None:
        return None
    match = _DURATION.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        raise ConfigError(f"invalid interval {text!r}: give seconds (3600) or a number with s, m, h or d (12h)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]


# ---- output ----------------------------------------------------------------------------------


def console() -> Console:
    return Console(highlight=False)


def say(text: str) -> None:
    """One human line; `text` may use rich markup (escape user data)."""
    console().print(text)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


def report(view: Any, as_json: bool, sentence: str) -> None:
    """A command's result: the view as JSON with `--json`, else one human sentence."""
    if as_json:
        print_json(view)
    else:
        say(sentence)


def print_json_lines(items: Iterable[Any]) -> None:
    for item in items:
        print_json(item)


def bold(text: Any) -> str:
    return f"[bold]{escape(str(text))}[/bold]"


def cell(value: Any) -> str:
    """A table cell: JSON for lists and objects, `-` for None, escaped text otherwise."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return escape(str(value))


def enabled_cell(enabled: bool) -> str:
    return "yes" if enabled else "[red]no[/red]"


def day(moment: str | None) -> str:
    """`2024-05-01` from an ISO 8601 time."""
    return (moment or "-")[:10]


def minute(moment: str | None) -> str:
    """`2024-05-01 12:34` from an ISO 8601 time."""
    return (moment or "-")[:16].replace("T", " ")


def new_table(*headers: str, title: str | None = None) -> Table:
    """A table whose cells fold rather than cut long values (ids, keys) so they can be copied."""
    made = Table(title=title, title_justify="left")
    for header in headers:
        made.add_column(header, overflow="fold")
    return made


def shorten(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def details_table(rows: Iterable[tuple[str, Any]], title: str | None = None) -> Table:
    """A two-column table of labels and values."""
    table = Table(show_header=False, title=title, title_justify="left", box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, cell(value))
    return table


def settings_table(settings: dict) -> Table:
    """A destination's or warehouse's settings as the view shows them (secrets already masked)."""
    made = new_table("Setting", "Value", title="Settings")
    for name, value in settings.items():
        made.add_row(escape(name), cell(value))
    return made


def iso_moment(text: str, option: str) -> Any:
    """A datetime from an ISO-8601 option value, or a ConfigError naming the option."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: not an ISO-8601 time: {text!r} (e.g. 2024-05-01T00:00:00Z)") from None
