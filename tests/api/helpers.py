"""Small helpers shared by the API tests."""

from __future__ import annotations


def data(response, key: str, status: int = 200):
    """The `data[key]` of a response, after checking its status."""
    assert response.status_code == status, response.text
    return response.json()["data"][key]


def assert_error(response, status: int, code: str, *words: str) -> dict:
    """The one error body, with this status and code, its message naming `words`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["code"] == code, body
    for word in words:
        assert word in body["message"], body
    return body


def make_source(client, name: str = "Web", type: str = "javascript") -> dict:
    return data(client.post("/api/v1/sources", json={"name": name, "type": type}), "source", 201)


def make_webhook(client, source_id: str, url: str = "http://127.0.0.1:9/hook", **fields) -> dict:
    body = {"sourceId": source_id, "metadataId": "webhook", "settings": {"url": url}, **fields}
    return data(client.post("/api/v1/destinations", json=body), "destination", 201)
