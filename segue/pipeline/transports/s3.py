"""S3 (and S3-compatible stores): PutObject of the body.

URL: `s3://<accessKeyId>:<secretAccessKey>@<bucket>/<key>?region=<region>[&endpoint=<url>]`
(credentials and endpoint percent-encoded). The object's Content-Type is the request's
`Content-Type` header, else guessed from the key (`.ndjson` -> `application/x-ndjson`).
"""

from __future__ import annotations

import contextlib
from urllib.parse import unquote, urlsplit

from segue.destinations.contract import Request
from segue.pipeline.transports import (
    Pool,
    PooledTransport,
    TransportError,
    credentials,
    deliver,
    describe,
    import_client,
    query_values,
)

CONTENT_TYPES = {".ndjson": "application/x-ndjson", ".json": "application/json", ".csv": "text/csv"}
PERMANENT_CODES = {
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "InvalidBucketName",
    "AuthorizationHeaderMalformed", "InvalidArgument", "EntityTooLarge", "AllAccessDisabled", "InvalidRequest",
    "PermanentRedirect", "MethodNotAllowed", "KMS.AccessDeniedException", "AccountProblem", "ExpiredToken",
    "InvalidToken",
}


class S3Transport(PooledTransport):
    def __init__(self) -> None:
        self.pool = Pool(lambda client: client[1].aclose())
        self._session = None

    async def send(self, request: Request, timeout: float) -> None:
        if self._session is None:  # imported and created outside the timeout: the first import is slow
            self._session = import_client("aiobotocore.session", "s3").get_session()
        parts = urlsplit(request.url)
        query = query_values(parts)
        bucket, object_key = parts.hostname or "", unquote(parts.path[1:])
        user, password = credentials(parts)
        region, endpoint = query.get("region") or "us-east-1", query.get("endpoint")
        key = (user, password, region, endpoint)

        async def put() -> None:
            client, _ = await self.pool.get(
                key, lambda: _connect(self._session, user, password, region, endpoint, timeout)
            )
            await client.put_object(
                Bucket=bucket, Key=object_key, Body=request.body or b"", ContentType=_content_type(request, object_key)
            )

        where = f"s3://{bucket}/{object_key}" + (f" at {endpoint}" if endpoint else "")
        await deliver(self.pool, key, parts, where, timeout, put, classify)


async def _connect(session, user: str | None, password: str | None, region: str, endpoint: str | None, timeout: float):
    """An open S3 client (and the exit stack that closes it)."""
    from botocore.config import Config

    stack = contextlib.AsyncExitStack()
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
    client = await stack.enter_async_context(session.create_client(
        "s3", region_name=region, endpoint_url=endpoint, aws_access_key_id=user, aws_secret_access_key=password,
        config=config,
    ))
    return client, stack


def _content_type(request: Request, object_key: str) -> str:
    given = next((value for name, value in request.headers.items() if name.lower() == "content-type"), None)
    suffix = object_key[object_key.rfind("."):] if "." in object_key else ""
    return given or CONTENT_TYPES.get(suffix, "application/octet-stream")


def classify(error: Exception) -> TransportError:
    """S3's error codes for credentials, buckets and arguments are permanent; the rest is retried."""
    from botocore.exceptions import ClientError, NoCredentialsError, ParamValidationError

    text = describe(error)
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        permanent = code in PERMANENT_CODES or (400 <= status < 500 and status not in (408, 429))
        return TransportError(f"S3 refused the object: {text}", retryable=not permanent)
    if isinstance(error, (NoCredentialsError, ParamValidationError)):
        return TransportError(text, retryable=False)
    return TransportError(f"cannot reach S3: {text}", retryable=True)
