"""S3 transport against moto in server mode: the object written is the one read back."""

from __future__ import annotations

import boto3
import pytest

from segue.pipeline.transports import TransportError
from tests.pipeline.transports.conftest import HOST
from tests.pipeline.transports.helpers import EVENTS

BUCKET = "segue-archive"


@pytest.fixture(scope="module")
def bucket(moto_endpoint):
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-west-3",
                          aws_access_key_id="AKIDTEST", aws_secret_access_key="secret/with+chars")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return client


def settings(endpoint: str, **extra) -> dict:
    return {"bucket": BUCKET, "region": "eu-west-3", "prefix": "raw/events", "accessKeyId": "AKIDTEST",
            "secretAccessKey": "secret/with+chars", "endpoint": endpoint, **extra}


def s3_batch(values: dict) -> list:
    from segue.destinations.registry import load_catalog
    from segue.destinations.settings import validate_settings

    destination = load_catalog().get("amazon-s3")
    return destination.batch(EVENTS, validate_settings(destination.settings, values))


async def test_a_batch_becomes_one_ndjson_object(moto_endpoint, bucket, transports):
    (request,) = s3_batch(settings(moto_endpoint))
    await transports.send(request, timeout=10)
    key = request.url.split(BUCKET + "/", 1)[1].split("?")[0]
    stored = bucket.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == request.body
    assert stored["ContentType"] == "application/x-ndjson"
    assert key.startswith("raw/events/2024/03/05/14/") and key.endswith(f"-{len(EVENTS)}.ndjson")


async def test_a_missing_bucket_is_permanent_and_hides_the_secret(moto_endpoint, bucket, transports):
    (request,) = s3_batch(settings(moto_endpoint, bucket="segue-no-such-bucket"))
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=10)
    assert not caught.value.retryable and "NoSuchBucket" in caught.value.message
    assert "secret" not in caught.value.message


async def test_unknown_credentials_are_permanent_and_hidden(moto_endpoint, bucket, transports):
    from moto.core.authorization import enable_iam_authentication

    (request,) = s3_batch(settings(moto_endpoint))
    with enable_iam_authentication(), pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=10)
    assert not caught.value.retryable and "InvalidAccessKeyId" in caught.value.message
    assert "secret" not in caught.value.message


async def test_an_unreachable_endpoint_is_retryable(transports, closed_port):
    (request,) = s3_batch(settings(f"http://{HOST}:{closed_port}"))
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=10)
    assert caught.value.retryable
