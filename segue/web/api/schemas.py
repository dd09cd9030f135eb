"""The REST API's request and response bodies (camelCase on the wire, as Segment's Public API).

Responses are wrapped as Segment's are: `{"data": {"source": {...}}}` for one object and
`{"data": {"sources": [...]}}` for a list. These models are what the OpenAPI document says
and what schemathesis checks the running API against.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

from segue.mapping.fql import MAX_CHARACTERS as MAX_FQL_CHARACTERS
from segue.store.models import SOURCE_TYPES

SourceType = Literal[SOURCE_TYPES]  # type: ignore[valid-type]
Role = Literal["owner", "member", "read_only"]
Mode = Literal["cloud", "device"]
Plan = Literal["free", "team", "business"]
EventType = Literal["track", "identify", "page", "screen", "group", "alias"]
def _whole_float_to_int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# JSON Schema's integer: `3600.0` is one too (strict mode alone would refuse it).
Seconds = Annotated[int, Field(ge=1), BeforeValidator(_whole_float_to_int)]
# A place in an ordered list, 0 first.
Position = Annotated[int, Field(ge=0, le=1000), BeforeValidator(_whole_float_to_int)]
NOT_BLANK = r"\S"  # at least one character that is not white space
Name = Field(min_length=1, max_length=100, pattern=NOT_BLANK)


class Body(BaseModel):
    """Base of every body: camelCase names; unknown fields in a request are refused."""

    # Strict: `0` is not `false`. Python's regex engine: the patterns mean what the OpenAPI
    # document's readers (Python's `re`, as in schemathesis) take them to mean.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True, regex_engine="python-re"
    )


class Out(Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=False)


# Errors -------------------------------------------------------------------------------------


class Problem(Out):
    field: str
    rule: str
    message: str


class Error(Out):
    """The one error body, everywhere."""

    success: Literal[False] = False
    code: str
    message: str
    errors: list[Problem] | None = None


# Catalog ------------------------------------------------------------------------------------


class SettingField(Out):
    name: str
    type: str
    label: str
    description: str
    required: bool
    default_value: Any = None
    choices: list[Any] | None = None
    secret: bool


class Preset(Out):
    name: str
    trigger: str
    action_id: str
    fields: dict[str, Any]


class DestinationMetadata(Out):
    slug: str
    name: str
    description: str
    categories: list[str]
    status: str
    methods: dict[str, bool]
    platforms: dict[str, bool]
    connection_modes: dict[str, dict[str, bool]]
    replay: bool
    logo: str
    docs_url: str
    settings: list[SettingField]
    presets: list[Preset]
    batch_size: int


class WarehouseMetadata(Out):
    slug: str
    name: str
    description: str
    status: str
    docs_url: str
    logo: str
    settings: list[SettingField]


# Sources ------------------------------------------------------------------------------------


class SourceIn(Body):
    name: str = Name
    type: SourceType


class SourceChange(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    enabled: bool | None = None


class Source(Out):
    id: str
    name: str
    slug: str
    type: str
    enabled: bool
    write_keys: list[str]
    created_at: str
    updated_at: str


# Destinations -------------------------------------------------------------------------------


class DestinationIn(Body):
    source_id: str = Field(description="The source's id (or slug) this instance receives events from.")
    metadata_id: str = Field(description="The catalog slug of the destination, e.g. `webhook`.")
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    settings: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = False
    mode: Mode | None = None
    copy_settings_from: str | None = Field(default=None, description="Another instance of the same destination.")


class DestinationChange(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    enabled: bool | None = None
    mode: Mode | None = None
    settings: dict[str, Any] | None = Field(default=None, description="Merged into the stored settings; null removes one.")


class DestinationSummary(Out):
    id: str
    slug: str
    name: str | None = None
    categories: list[str] | None = None


class Destination(Out):
    id: str
    name: str
    enabled: bool
    mode: str
    source_id: str
    metadata: DestinationSummary
    settings: dict[str, Any]
    created_at: str
    updated_at: str


class TestEventIn(Body):
    type: EventType = "track"
    event: dict[str, Any] | None = Field(default=None, description="The event to send; a sample when absent.")


class Exchange(Out):
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: str | None


class TestResult(Out):
    type: str
    event: dict[str, Any]
    delivered: bool
    requests: list[Exchange]


class Latency(Out):
    p50: float | None
    p95: float | None


class DeliverySummary(Out):
    """Event delivery for one destination instance (spec 4.5)."""

    delivered: int
    retried: int
    failed: int
    filtered: dict[str, int]
    latency_ms: Latency
    recent_failures: list[dict[str, Any]]


class DropEvent(Body):
    type: Literal["DROP"]


class SampleEvents(Body):
    type: Literal["SAMPLE"]
    percent: float = Field(ge=0, le=1, description="The share of events kept, 0 to 1.")
    path: str | None = Field(default=None, description="Sample by this field's value (e.g. `userId`), not at random.")


class DropProperties(Body):
    type: Literal["DROP_PROPERTIES"]
    fields: dict[str, list[str]] = Field(description='Per object, the fields to drop: `{"properties": ["email"]}`; `""` is the top level.')


class AllowProperties(Body):
    type: Literal["ALLOW_PROPERTIES"]
    fields: dict[str, list[str]] = Field(description="Per object, the only fields to keep.")


FilterAction = Annotated[DropEvent | SampleEvents | DropProperties | AllowProperties, Field(discriminator="type")]
FQL = Field(min_length=1, max_length=MAX_FQL_CHARACTERS, pattern=NOT_BLANK, alias="if", description="The condition, in FQL.")


class FilterIn(Body):
    title: str = Field(min_length=1, max_length=64, pattern=NOT_BLANK)
    if_: str = FQL
    actions: list[FilterAction] = Field(min_length=1)
    enabled: bool = True


class FilterChange(Body):
    title: str | None = Field(default=None, min_length=1, max_length=64, pattern=NOT_BLANK)
    if_: str | None = Field(
        default=None, min_length=1, max_length=MAX_FQL_CHARACTERS, pattern=NOT_BLANK, alias="if", description="The condition, in FQL."
    )
    actions: list[FilterAction] | None = Field(default=None, min_length=1)
    enabled: bool | None = None


class Filter(Out):
    id: str
    destination_id: str
    title: str
    if_: str = Field(alias="if")
    actions: list[dict[str, Any]]
    enabled: bool
    created_at: str
    updated_at: str


TRIGGER_DESCRIPTION = 'Which events call the action, in FQL, e.g. `type = "track" and event = "Order Completed"`.'
FIELDS_DESCRIPTION = (
    "Mapping-kit fields evaluated on the event and merged over it (top-level keys replaced), "
    'e.g. `{"event": {"@template": "Viewed {{name}}"}, "type": "track"}`.'
)
ACTION_DESCRIPTION = "The destination's translation to call: a Segment method it takes."


class MappingIn(Body):
    name: str = Name
    trigger: str = Field(min_length=1, max_length=MAX_FQL_CHARACTERS, pattern=NOT_BLANK, description=TRIGGER_DESCRIPTION)
    action: EventType = Field(description=ACTION_DESCRIPTION)
    fields: dict[str, Any] = Field(default_factory=dict, description=FIELDS_DESCRIPTION)
    enabled: bool = True


class MappingChange(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    trigger: str | None = Field(
        default=None, min_length=1, max_length=MAX_FQL_CHARACTERS, pattern=NOT_BLANK, description=TRIGGER_DESCRIPTION
    )
    action: EventType | None = Field(default=None, description=ACTION_DESCRIPTION)
    fields: dict[str, Any] | None = Field(default=None, description=FIELDS_DESCRIPTION + " Replaced whole.")
    enabled: bool | None = None
    position: Position | None = Field(default=None, description="Move it to this place in the order (0: first).")


class DestinationMapping(Out):
    id: str
    destination_id: str
    name: str
    trigger: str
    action: str
    fields: dict[str, Any]
    enabled: bool
    position: int
    created_at: str
    updated_at: str


# Warehouses ---------------------------------------------------------------------------------


class WarehouseIn(Body):
    metadata_id: str = Field(description="The warehouse engine: duckdb, postgres, mysql, snowflake or redshift.")
    name: str = Name
    settings: dict[str, Any] = Field(default_factory=dict)
    source_ids: list[str] | None = Field(default=None, description="Sources to load (Selective Sync); null: all.")
    selective_sync: dict[str, Any] | None = None
    sync_interval_seconds: Seconds | None = None
    enabled: bool = True


class WarehouseChange(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    settings: dict[str, Any] | None = None
    source_ids: list[str] | None = None
    selective_sync: dict[str, Any] | None = None
    sync_interval_seconds: Seconds | None = None
    enabled: bool | None = None


class Warehouse(Out):
    id: str
    name: str
    engine: str
    enabled: bool
    settings: dict[str, Any]
    source_ids: list[str] | None
    selective_sync: dict[str, Any]
    sync_interval_seconds: int
    created_at: str
    updated_at: str


SyncStatus = Literal["Pending", "Running", "Success", "Partial", "Failure"]


class WarehouseSync(Out):
    """One sync: Pending (asked for, not started), Running, Success, Partial or Failure."""

    id: str
    warehouse_id: str
    status: SyncStatus
    trigger: Literal["schedule", "manual"]
    requested_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    duration_seconds: float | None
    rows: dict[str, int] = Field(description="Rows loaded per table.")
    total_rows: int
    notices: list[str]
    error: str | None = Field(description="Why the sync failed (Ping or Load), when it did.")


# Workspace, audit, users, tokens ------------------------------------------------------------


class Limits(Out):
    max_warehouses: int | None
    min_sync_interval_seconds: int
    features: list[str]
    max_trigger_conditions: int | None = Field(description="Conditions per mapping trigger; null: as many as needed.")


class Workspace(Out):
    id: str
    name: str
    slug: str
    plan: str
    limits: Limits
    created_at: str
    updated_at: str


class WorkspaceChange(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NOT_BLANK)
    plan: Plan | None = None


class AuditEvent(Out):
    id: int
    at: str
    actor: str
    action: str
    resource_type: str
    resource_id: str
    details: dict[str, Any]


class UserIn(Body):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=1024)
    role: Role = "member"


class UserChange(Body):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class User(Out):
    id: str
    username: str
    role: str
    created_at: str
    updated_at: str


class TokenIn(Body):
    name: str = Name
    role: Role = "member"


class Token(Out):
    id: str
    name: str
    role: str
    prefix: str
    created_by: str
    created_at: str
    last_used_at: str | None


class NewToken(Token):
    token: str = Field(description="The token itself: shown once, only its hash is kept.")


@cache
def envelope(key: str, content: Any) -> type[BaseModel]:
    """The response model `{"data": {key: content}}`, named after the key (e.g. `SourcesResponse`)."""
    title = key[0].upper() + key[1:]
    inner = create_model(f"{title}Data", __config__=ConfigDict(extra="forbid"), **{key: (content, ...)})
    return create_model(f"{title}Response", data=(inner, ...))


# Preview (segue/control/preview.py) ---------------------------------------------------------


class MappingDraft(Body):
    name: str = Field(default="Draft", min_length=1, max_length=100, pattern=NOT_BLANK)
    trigger: str = Field(min_length=1, max_length=MAX_FQL_CHARACTERS, pattern=NOT_BLANK, description=TRIGGER_DESCRIPTION)
    action: EventType = Field(description=ACTION_DESCRIPTION)
    fields: dict[str, Any] = Field(default_factory=dict, description=FIELDS_DESCRIPTION)


class PreviewIn(Body):
    event: dict[str, Any] | None = Field(default=None, description="The event to preview; a built-in sample of `type` when absent.")
    type: EventType = "track"
    mapping: MappingDraft | None = Field(default=None, description="A mapping not saved yet: preview it alone, instead of the instance's mappings.")


class PreviewCall(Out):
    mapping: str | None
    action: str | None
    payload: dict[str, Any]


class PreviewRequest(Out):
    method: str
    url: str
    headers: dict[str, str]
    body: str
    body_bytes: int


class Preview(Out):
    """What an event becomes for a destination instance; nothing is sent."""

    outcome: Literal["sent", "filtered", "failed", "incomplete"]
    reason: str | None
    event: dict[str, Any]
    calls: list[PreviewCall]
    requests: list[PreviewRequest]
