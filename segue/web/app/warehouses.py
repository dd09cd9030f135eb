"""Warehouses: the list, and connecting one (engine, name, connection settings).

The plan rule is shown before the form is filled in: on Free and Team a second warehouse is
refused, and the page says why and which plan allows it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.control.plans import rules_for, warehouse_limit_message
from segue.destinations.settings import InvalidSettings
from segue.errors import ConfigError
from segue.web.app.render import actor, flash, form, page, plane, redirect
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


ROUTES = [
    Route("/warehouses", list_warehouses, methods=["GET"]),
    Route("/warehouses/new", connect_form, methods=["GET"]),
    Route("/warehouses", connect, methods=["POST"]),
    Route("/warehouses/{warehouse_id}/delete", delete_warehouse, methods=["POST"]),
]
