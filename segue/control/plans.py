"""Plan rules (spec section 6 and 3.7), enforced by the control plane on every path.

Segue is self-hosted, so a plan is a setting the operator chooses, not a bill; the rules
still follow Segment's so that a workspace behaves as its users expect.
"""

from __future__ import annotations

from dataclasses import dataclass

from segue.errors import ConfigError, PlanLimit

DAY = 86_400
BUSINESS_FEATURES = {
    "selective_sync": "Selective Sync",
    "replay": "Replay",
    "destination_filters": "Destination Filters",
}


@dataclass(frozen=True, slots=True)
class PlanRules:
    """What one plan allows."""

    max_warehouses: int | None  # None: as many as needed
    min_sync_interval_seconds: int  # never more often than this
    features: frozenset[str]
    max_trigger_conditions: int | None = None  # per mapping trigger; None: as many as needed


SELF_SERVICE_CONDITIONS = 2  # spec 4.3: "self-service plans get 2 conditions per trigger"
PLAN_RULES = {
    "free": PlanRules(max_warehouses=1, min_sync_interval_seconds=DAY, features=frozenset(),
                      max_trigger_conditions=SELF_SERVICE_CONDITIONS),
    "team": PlanRules(max_warehouses=1, min_sync_interval_seconds=DAY // 2, features=frozenset(),
                      max_trigger_conditions=SELF_SERVICE_CONDITIONS),
    "business": PlanRules(None, min_sync_interval_seconds=3_600, features=frozenset(BUSINESS_FEATURES)),
}
MAX_SYNC_INTERVAL_SECONDS = 7 * DAY


def rules_for(plan: str) -> PlanRules:
    try:
        return PLAN_RULES[plan]
    except KeyError:
        raise ConfigError(f"unknown plan {plan!r}; use one of: {', '.join(PLAN_RULES)}") from None


def require_feature(plan: str, feature: str) -> None:
    """PlanLimit unless `plan` includes `feature` (a key of BUSINESS_FEATURES)."""
    if feature not in rules_for(plan).features:
        raise PlanLimit(
            f"{BUSINESS_FEATURES[feature]} needs the business plan; this workspace is on the {plan} plan "
            "(an owner can change it with `segue workspace set-plan business`)"
        )


def check_sync_interval(plan: str, seconds: int) -> None:
    """PlanLimit when a warehouse would sync more often than the plan allows."""
    minimum = rules_for(plan).min_sync_interval_seconds
    if seconds < minimum:
        raise PlanLimit(
            f"the {plan} plan syncs a warehouse at most every {_hours(minimum)}; "
            f"{seconds} s ({_hours(seconds)}) is too often"
        )
    if seconds > MAX_SYNC_INTERVAL_SECONDS:
        raise ConfigError(f"a warehouse must sync at least weekly ({MAX_SYNC_INTERVAL_SECONDS} s); got {seconds} s")


def check_trigger_conditions(plan: str, conditions: int) -> None:
    """PlanLimit when a mapping trigger has more conditions than the plan allows."""
    limit = rules_for(plan).max_trigger_conditions
    if limit is not None and conditions > limit:
        raise PlanLimit(
            f"trigger: the {plan} plan allows {limit} conditions per trigger and this one has {conditions}; "
            "the business plan allows as many as needed (`segue workspace set-plan business`)"
        )


def warehouse_limit_message(plan: str, limit: int) -> str:
    return f"the {plan} plan allows {limit} warehouse{'s' if limit != 1 else ''}; the business plan allows as many as needed"


def _hours(seconds: int) -> str:
    hours = seconds / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"
