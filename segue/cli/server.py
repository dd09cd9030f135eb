"""`segue serve` runs Segue; `segue secret-key generate` makes the key that encrypts secrets."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from segue.cli.common import DatabaseUrl, DataDir, group, load_settings

secret_key_app = group("Make the key that encrypts secret settings at rest (SEGUE_SECRET_KEY).")


def serve(
    host: Annotated[
        Optional[str], typer.Option("--host", envvar="SEGUE_HOST", show_default="127.0.0.1", help="Interface to listen on.")
    ] = None,
    port: Annotated[
        Optional[int], typer.Option("--port", envvar="SEGUE_PORT", show_default="8088", help="TCP port to listen on.")
    ] = None,
    public_url: Annotated[
        Optional[str], typer.Option("--public-url", envvar="SEGUE_PUBLIC_URL", show_default="http://127.0.0.1:8088",
                                    help="The URL people and browsers reach this Segue at (OAuth logins come back to it).")
    ] = None,
    log_url: Annotated[
        Optional[str], typer.Option("--log-url", envvar="SEGUE_LOG_URL", show_default="SQLite files in the data dir",
                                    help="Event log: nats://HOST:4222 keeps it on NATS JetStream, shared by every node.")
    ] = None,
    role: Annotated[
        Optional[str], typer.Option("--role", envvar="SEGUE_ROLE", show_default="all",
                                    help="What this node runs: all, or a comma-separated set of ingest (Tracking API, "
                                         "device-mode settings and bundles), router (delivery), warehouse (syncs, "
                                         "archive), app (web app, REST API).")
    ] = None,
    node_name: Annotated[
        Optional[str], typer.Option("--node-name", envvar="SEGUE_NODE_NAME", show_default="host name and process id",
                                    help="This node's name among the routers and warehouse loaders sharing the work; "
                                         "unique per running node.")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    allow_private_destinations: Annotated[
        bool, typer.Option("--allow-private-destinations",
                           help="Let destinations reach loopback and private addresses (SEGUE_ALLOW_PRIVATE_DESTINATIONS=1).")
    ] = False,
) -> None:
    """Run Segue (the Tracking API, the app, the REST API, delivery and warehouse syncs, or the parts
    `--role` names) in this process until interrupted."""
    from segue.server import serve as run_server

    run_server(load_settings(data_dir, database_url, host=host, port=port, public_url=public_url, log_url=log_url, role=role,
                              node_name=node_name,
                              allow_private_destinations=allow_private_destinations or None))


@secret_key_app.command("generate")
def generate() -> None:
    """Print a new secret key for SEGUE_SECRET_KEY (every process sharing a config store needs the same one).

    Without SEGUE_SECRET_KEY, Segue keeps its key in secret.key in the data dir. Changing the
    key makes the secrets already stored unreadable: set it before saving any.
    """
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode("ascii"))
