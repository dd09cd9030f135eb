"""Warehouses: the list, connecting one (engine, name, connection settings), and a warehouse's
page: its sync history with "Sync now", the details a BI tool needs, and Selective Sync.

The plan rule is shown before the form is filled in: on Free and Team a second warehouse is
refused, and the page says why and which plan allows it. Selective Sync (Business) is shown on
every plan; on the others the page says why it cannot be saved and which plan allows it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.control.plans import require_feature, rules_for, warehouse_limit_message
from segue.destinations.settings import InvalidSettings
from segue.errors import ConfigError, Forbidden
from segue.warehouses.naming import schema_name
from segue.web.app.render import actor, flash, form, form_lists, page, plane, redirect
from segue.web.app.settings_form import errors_by_field, form_fields, submitted_values

SERVICE_USER_SQL = {
    "postgres": ("CREATE USER segue WITH PASSWORD '<password>';\n"
                 "GRANT CREATE, TEMPORARY ON DATABASE <database> TO segue;"),
    "redshift": ("CREATE USER segue PASSWORD '<password>';\n"
                 "GRANT CREATE ON DATABASE <database> TO segue;"),
    "mysql": ("CREATE USER 'segue'@'%' IDENTIFIED BY '<password>';\n"
              "GRANT CREATE, ALTER, INSERT, UPDATE, DELETE, SELECT, INDEX ON <database>.* TO 'segue'@'%';"),
    "snowflake": ("CREATE ROLE segue;\nCREATE USER segue PASSWORD = '<password>' DEFAULT_ROLE = segue;\n"
                  "GRANT ROLE segue TO USER segue;\nGRANT USAGE ON WAREHOUSE <warehouse> TO ROLE segue;\n"
                  "GRANT CREATE SCHEMA ON DATABASE <database> TO ROLE segue;"),
}


def list_warehouses(request: Request) -> Response:
    control = plane(request)
    return page(request, "warehouses.html", nav="warehouses", warehouses=control.list_warehouses(),
                engines=control.engines, plan_rule=plan_rule(control))


def connect_form(request: Request, errors: dict | None = None, typed: dict | None = None,
                 error: str | None = None, status: int = 200) -> Response:
    control = plane(request)
    slug = (typed or {}).get("engine") or request.query_params.get("engine") or next(iter(control.engines))
    engine = control.engines.get(slug) or control.engines[next(iter(control.engines))]
    return page(
        request, "warehouse_new.html", status=status, nav="warehouses", engines=control.engines.values(),
        engine=engine, fields=form_fields(engine.settings, None, typed), errors=errors or {}, error=error,
        plan_rule=plan_rule(control), sql=SERVICE_USER_SQL.get(engine.slug), name=(typed or {}).get("name", engine.name),
    )


def connect(request: Request) -> Response:
    control, values = plane(request), form(request)
    engine = control.engines.get(values.get("engine", ""))
    if engine is None:
        return connect_form(request, error="Choose a warehouse engine.", status=400)
    try:
        settings = submitted_values(engine.settings, values)
        created = control.create_warehouse(actor(request), engine=engine.slug, name=values.get("name", "").strip() or engine.name,
                                           settings={k: v for k, v in settings.items() if v is not None})
    except InvalidSettings as error:
        return connect_form(request, errors=errors_by_field(error), typed=values, status=400)
    except ConfigError as error:
        return connect_form(request, typed=values, error=error.message, status=error.status)
    flash(request, f"Warehouse {created['name']} connected; it loads every source.")
    return redirect(request, "/warehouses")


def delete_warehouse(request: Request) -> Response:
    warehouse = plane(request).delete_warehouse(actor(request), request.path_params["warehouse_id"])
    flash(request, f"Warehouse {warehouse['name']} was disconnected.")
    return redirect(request, "/warehouses")


def plan_rule(control) -> str | None:
    """Why another warehouse cannot be connected on this plan, or None when it can."""
    plan, count = control.plan, len(control.list_warehouses())
    limit = rules_for(plan).max_warehouses
    if limit is None or count < limit:
        return None
    message = warehouse_limit_message(plan, limit)
    return f"{message[0].upper()}{message[1:]}. This workspace already has {count}."


STANDARD_TABLES = ("identifies", "users", "tracks", "pages", "screens", "groups", "aliases")
NOT_SELECTABLE = {"segue_rejected"}
ACTIVE = ("Pending", "Running")
HISTORY_ROWS = 50
DUCKDB_FILE = "warehouse.duckdb"

READ_ONLY_SQL = {
    "postgres": ("CREATE USER bi WITH PASSWORD '<password>';\nGRANT CONNECT ON DATABASE {database} TO bi;",
                 "GRANT USAGE ON SCHEMA {schema} TO bi;\nGRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO bi;\n"
                 "ALTER DEFAULT PRIVILEGES FOR ROLE {loader} IN SCHEMA {schema} GRANT SELECT ON TABLES TO bi;"),
    "redshift": ("CREATE USER bi PASSWORD '<Password1>';",
                 "GRANT USAGE ON SCHEMA {schema} TO bi;\nGRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO bi;\n"
                 "ALTER DEFAULT PRIVILEGES FOR USER {loader} IN SCHEMA {schema} GRANT SELECT ON TABLES TO bi;"),
    "mysql": ("CREATE USER 'bi'@'%' IDENTIFIED BY '<password>';", "GRANT SELECT ON `{schema}`.* TO 'bi'@'%';"),
    "snowflake": ("CREATE ROLE bi_reader;\nGRANT USAGE ON WAREHOUSE {warehouse} TO ROLE bi_reader;\n"
                  "GRANT USAGE ON DATABASE {database} TO ROLE bi_reader;",
                  "GRANT USAGE ON SCHEMA {database}.{schema} TO ROLE bi_reader;\n"
                  "GRANT SELECT ON ALL TABLES IN SCHEMA {database}.{schema} TO ROLE bi_reader;\n"
                  "GRANT SELECT ON FUTURE TABLES IN SCHEMA {database}.{schema} TO ROLE bi_reader;",
                  "CREATE USER bi PASSWORD = '<password>' DEFAULT_ROLE = bi_reader;\nGRANT ROLE bi_reader TO USER bi;"),
}
DEFAULT_PORTS = {"postgres": 5432, "redshift": 5439, "mysql": 3306}


def warehouse_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    control = plane(request)
    warehouse = control.get_warehouse(request.path_params["warehouse_id"])
    syncs = control.list_syncs(warehouse["id"], limit=HISTORY_ROWS)
    sources = warehouse_sources(control, warehouse)
    disabled = set((warehouse.get("selectiveSync") or {}).get("collections") or ())
    engine = control.engines.get(warehouse["engine"])
    return page(
        request, "warehouse_detail.html", status=status, nav="warehouses", warehouse=warehouse, syncs=syncs,
        active=any(sync["status"] in ACTIVE for sync in syncs), sources=sources,
        engine_name=engine.name if engine is not None else warehouse["engine"],
        bi=bi_details(request, warehouse, sources), tables=known_tables(syncs, disabled), disabled=disabled,
        selective_rule=selective_sync_rule(control, actor(request)), error=error,
    )


def sync_history(request: Request) -> Response:
    """The history alone: what htmx polls every 2 s while a sync is pending or running."""
    control = plane(request)
    warehouse = control.get_warehouse(request.path_params["warehouse_id"])
    syncs = control.list_syncs(warehouse["id"], limit=HISTORY_ROWS)
    return page(request, "warehouse_syncs.html", warehouse=warehouse, syncs=syncs,
                active=any(sync["status"] in ACTIVE for sync in syncs), flashes=[])


def sync_now(request: Request) -> Response:
    ref = request.path_params["warehouse_id"]
    try:
        sync = plane(request).request_sync(actor(request), ref)
    except ConfigError as error:
        flash(request, error.message, "error")
    else:
        flash(request, f"Sync requested ({sync['status']}); the history below follows it.")
    return redirect(request, f"/warehouses/{ref}#history")


def save_selective_sync(request: Request) -> Response:
    """Tables left unticked become `selective_sync.collections`; the column choices are kept."""
    control, ref = plane(request), request.path_params["warehouse_id"]
    warehouse = control.get_warehouse(ref)
    rule = selective_sync_rule(control, actor(request))
    if rule is not None:
        return warehouse_page(request, status=403, error=rule)
    values = form_lists(request)
    shown, loaded = set(values.get("table", [])), set(values.get("load", []))
    current = dict(warehouse.get("selectiveSync") or {})
    kept = [name for name in current.get("collections") or () if name not in shown]
    choices = {**current, "collections": sorted({*kept, *(shown - loaded)})}
    if not choices["collections"]:
        choices.pop("collections")
    try:
        control.update_warehouse(actor(request), warehouse["id"], selective_sync=choices)
    except (ConfigError, Forbidden) as error:
        return warehouse_page(request, status=error.status, error=error.message)
    off = choices.get("collections") or []
    flash(request, "Selective Sync saved: " + (f"{len(off)} table(s) turned off." if off else "every table loads."))
    return redirect(request, f"/warehouses/{ref}#selective-sync")


def warehouse_sources(control, warehouse: dict) -> list[dict]:
    """The sources the warehouse loads, each with its schema name on this engine."""
    chosen = warehouse.get("sourceIds")
    sources = [s for s in control.list_sources() if chosen is None or s["id"] in chosen]
    return [{**source, "schema": schema_name(source["slug"], warehouse["engine"])} for source in sources]


def known_tables(syncs: list[dict], disabled: set[str]) -> list[str]:
    """The standard tables, then the event tables seen in the history and those turned off."""
    seen = {table for sync in syncs for table in (sync.get("rows") or {})} | disabled
    extra = sorted(seen - set(STANDARD_TABLES) - NOT_SELECTABLE)
    return [*STANDARD_TABLES, *extra]


def selective_sync_rule(control, who) -> str | None:
    """Why Selective Sync cannot be changed here (plan, then role), or None when it can."""
    try:
        require_feature(control.plan, "selective_sync")
    except ConfigError as error:
        return f"{error.message[0].upper()}{error.message[1:]}."
    if not who.is_owner:
        return "Only a workspace owner can change Selective Sync."
    return None


def bi_details(request: Request, warehouse: dict, sources: list[dict]) -> dict:
    """What a BI tool needs to read the warehouse: public settings only, never a secret."""
    engine, settings = warehouse["engine"], warehouse.get("settings") or {}
    schemas = [source["schema"] for source in sources] or ["web"]
    if engine == "duckdb":
        path = settings.get("path") or str(data_dir(request) / DUCKDB_FILE)
        table = f"{schemas[0]}.tracks"
        return {"kind": "file", "path": path, "example": f'duckdb -readonly {path} "SELECT * FROM {table} LIMIT 10"'}
    database = settings.get("database") or "<database>"
    facts = [("Database", database)]
    if engine == "snowflake":
        facts = [("Account", settings.get("account") or "<account>"), ("Warehouse", settings.get("warehouse") or "<warehouse>"), *facts]
    else:
        facts = [("Host", settings.get("host") or "<host>"), ("Port", settings.get("port") or DEFAULT_PORTS.get(engine, "")), *facts]
    facts.append(("User", "bi (the read-only user below)"))
    template = READ_ONLY_SQL.get(engine)
    sql = None
    if template is not None:
        names = {"database": database, "warehouse": settings.get("warehouse") or "<warehouse>",
                 "loader": settings.get("user") or "segue"}
        head, per_schema, *tail = template
        parts = [head.format(**names), *(per_schema.format(schema=schema, **names) for schema in schemas), *tail]
        sql = "\n".join(parts)
    return {"kind": "server", "facts": facts, "sql": sql, "schemas": schemas}


def data_dir(request: Request) -> Path:
    """The server's data dir: the parent of the event log's directory (`<data dir>/log`)."""
    directory = getattr(request.app.state.log, "directory", None)
    return Path(directory).parent if directory is not None else Path("<data dir>")


ROUTES = [
    Route("/warehouses", list_warehouses, methods=["GET"]),
    Route("/warehouses/new", connect_form, methods=["GET"]),
    Route("/warehouses", connect, methods=["POST"]),
    Route("/warehouses/{warehouse_id}", warehouse_page, methods=["GET"]),
    Route("/warehouses/{warehouse_id}/syncs", sync_history, methods=["GET"]),
    Route("/warehouses/{warehouse_id}/sync", sync_now, methods=["POST"]),
    Route("/warehouses/{warehouse_id}/selective-sync", save_selective_sync, methods=["POST"]),
    Route("/warehouses/{warehouse_id}/delete", delete_warehouse, methods=["POST"]),
]
