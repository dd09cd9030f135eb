"""What every route depends on: the control plane and the authenticated actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from segue.control import Actor, ControlPlane
from segue.web.api.auth import current_actor
from segue.web.api.schemas import Error


def get_plane(request: Request) -> ControlPlane:
    return request.app.state.plane


Plane = Annotated[ControlPlane, Depends(get_plane)]
Caller = Annotated[Actor, Depends(current_actor)]

ERRORS = {
    status: {"model": Error, "description": description}
    for status, description in {
        400: "Invalid request or settings: `errors` names each field and rule",
        401: "No valid API token",
        403: "The token's role or the workspace's plan does not allow this",
        404: "No such object",
        409: "The name is taken, or the change raced another one",
    }.items()
}
