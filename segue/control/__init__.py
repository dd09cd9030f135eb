"""The control plane: the use cases the REST API, the app and the CLI share.

Every change to Segue's configuration goes through `ControlPlane`, which checks the actor's
role, the workspace's plan and the destination's settings schema, then asks the config store
to save it (with an audit row in the same transaction). No path can skip a rule because no
path talks to the store's write methods directly.
"""

from segue.control.access import OPERATOR, ROLES, Actor
from segue.control.plane import ControlPlane

__all__ = ["OPERATOR", "ROLES", "Actor", "ControlPlane"]
