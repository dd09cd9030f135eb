"""`segue destinations ...`: instances of catalog destinations, their settings and test events."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "s3cret-value-never-shown"


def _webhook(segue, *more: str, url: str = "http://example.test/hook") -> dict:
    return segue.one("destinations", "create", "webhook", "--source", "web", "--setting", f"url={url}", *more)


def test_create_enabled_webhook_prints_the_instance_with_its_id(segue, web):
    created = _webhook(segue, "--enable", url="http://127.0.0.1:9/hook")
    assert created["id"] and created["enabled"] is True and created["mode"] == "cloud"
    assert created["sourceId"] == web["id"] and created["metadata"]["slug"] == "webhook"
    assert created["settings"]["url"] == "http://127.0.0.1:9/hook"


def test_new_instances_start_disabled_and_may_miss_required_settings(segue, web):
    created = segue.one("destinations", "create", "webhook", "--source", "web", "--name", "Later")
    assert created["enabled"] is False and created["name"] == "Later"
    stderr = segue.fails("destinations", "enable", created["id"])
    assert "url" in stderr and "missing" in stderr


def test_human_create_prints_the_id_on_its_own_line(segue, web):
    output = segue.ok("destinations", "create", "webhook", "--source", "web").stdout
    [listed] = segue.json_lines("destinations", "list")
    assert output.splitlines()[-1] == listed["id"]
    assert "Created destination Webhooks for source web" in output and "disabled" in output


def test_setting_values_are_json_when_they_parse(segue, web):
    created = _webhook(
        segue, "--setting", 'headers={"X-Team": "data"}', "--settings-json", '{"method": "PUT", "url": "http://other.test/"}'
    )
    assert created["settings"]["headers"] == {"X-Team": "data"}
    assert created["settings"]["method"] == "PUT"
    assert created["settings"]["url"] == "http://example.test/hook"  # --setting wins over --settings-json


def test_settings_json_from_stdin_and_file(segue, web, tmp_path):
    body = json.dumps({"url": "http://stdin.test/", "sharedSecret": SECRET})
    from_stdin = segue.one("destinations", "create", "webhook", "--source", "web", "--settings-json", "-", input=body)
    assert from_stdin["settings"]["url"] == "http://stdin.test/"
    (tmp_path / "settings.json").write_text(json.dumps({"url": "http://file.test/"}))
    from_file = ("--settings-json", f"@{tmp_path / 'settings.json'}")
    second = segue.one("destinations", "create", "webhook", "--source", "web", "--name", "Two", *from_file)
    assert second["settings"]["url"] == "http://file.test/"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--setting", "url=ftp://nope"], "url: Value error, must be an absolute http:// or https:// URL (value_error)"),
        (["--setting", "url=http://ok.test/", "--setting", "method=GET"], "method"),
        (["--setting", "url=http://ok.test/", "--setting", "colour=red"], "colour"),
        (["--enable"], "url: Field required (missing)"),
        (["--setting", "novalue"], "--setting needs KEY=VALUE"),
        (["--settings-json", "[1]"], "must be a JSON object"),
        (["--settings-json", "{nope"], "not valid JSON"),
    ],
)
def test_invalid_settings_name_the_field_and_rule(segue, web, flags, message):
    stderr = segue.fails("destinations", "create", "webhook", "--source", "web", *flags)
    assert message in stderr
    assert segue.json_lines("destinations", "list") == []


def test_unknown_destination_and_source(segue, web):
    assert "nope" in segue.fails("destinations", "create", "nope", "--source", "web")
    assert "no source" in segue.fails("destinations", "create", "webhook", "--source", "nope")


def test_device_mode_is_refused_where_the_destination_has_none(segue, web):
    assert "cloud" in segue.fails("destinations", "create", "webhook", "--source", "web", "--mode", "device")


def test_secrets_are_never_printed(segue, web):
    created = _webhook(segue, "--setting", f"sharedSecret={SECRET}", "--enable")
    shown = segue.one("destinations", "show", created["id"])
    assert shown["settings"]["sharedSecret"].startswith("••••")
    for output in (
        json.dumps(created),
        segue.ok("destinations", "show", created["id"], "--json").stdout,
        segue.ok("destinations", "show", created["id"]).stdout,
        segue.ok("destinations", "list", "--json").stdout,
        segue.ok("audit", "--json").stdout,
        segue.ok("audit").stdout,
    ):
        assert SECRET not in output
    with segue.store() as store:
        assert store.get_destination(created["id"]).secrets == {"sharedSecret": SECRET}


def test_list_show_and_filter_by_source(segue, web):
    segue.ok("sources", "create", "backend", "--type", "python")
    first = _webhook(segue)
    second = segue.one("destinations", "create", "webhook", "--source", "backend")
    assert [item["id"] for item in segue.json_lines("destinations", "list")] == [first["id"], second["id"]]
    assert [item["id"] for item in segue.json_lines("destinations", "list", "--source", "backend")] == [second["id"]]
    table = segue.ok("destinations", "list").stdout
    assert first["id"] in table and "backend" in table
    page = segue.ok("destinations", "show", first["id"]).stdout
    for text in (first["id"], "Webhooks (webhook)", "web", "http://example.test/hook", "Settings"):
        assert text in page
    assert segue.one("destinations", "show", first["id"]) == first


def test_empty_list_says_how_to_add_one(segue):
    assert "segue destinations create" in segue.ok("destinations", "list").stdout


def test_update_merges_settings_and_null_removes_one(segue, web):
    created = _webhook(segue, "--setting", 'headers={"A": "1"}', "--setting", f"sharedSecret={SECRET}")
    updated = segue.one("destinations", "update", created["id"], "--name", "Hook", "--setting", "method=PATCH")
    assert updated["name"] == "Hook" and updated["settings"]["method"] == "PATCH"
    assert updated["settings"]["headers"] == {"A": "1"} and updated["settings"]["sharedSecret"].startswith("••••")
    cleared = segue.one("destinations", "update", created["id"], "--setting", "sharedSecret=null")
    assert "sharedSecret" not in cleared["settings"]
    assert "Updated destination Hook" in segue.ok("destinations", "update", created["id"], "--setting", "method=POST").stdout


def test_update_refuses_invalid_settings_and_nothing_to_change(segue, web):
    created = _webhook(segue)
    assert "url" in segue.fails("destinations", "update", created["id"], "--setting", "url=nope")
    assert "nothing to change" in segue.fails("destinations", "update", created["id"])


def test_enable_disable_delete(segue, web):
    created = _webhook(segue)
    assert segue.one("destinations", "enable", created["id"])["enabled"] is True
    assert "Disabled destination Webhooks" in segue.ok("destinations", "disable", created["id"]).stdout
    assert segue.one("destinations", "show", created["id"])["enabled"] is False
    assert "Deleted destination" in segue.ok("destinations", "delete", created["id"]).stdout
    assert segue.json_lines("destinations", "list") == []
    assert "no destination" in segue.fails("destinations", "show", created["id"])


def test_copy_from_another_instance(segue, web):
    segue.ok("sources", "create", "backend", "--type", "python")
    original = _webhook(segue, "--setting", f"sharedSecret={SECRET}")
    copy = segue.one("destinations", "create", "webhook", "--source", "backend", "--copy-from", original["id"], "--enable")
    assert copy["settings"] == original["settings"] and copy["sourceId"] != original["sourceId"]


# ---- destinations test -----------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """A local HTTP server that records each request and answers `server.status` (200)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received, server.status = [], 200
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_test_sends_the_sample_event_and_exits_0(segue, web, receiver):
    created = _webhook(segue, "--setting", f"sharedSecret={SECRET}", "--enable", url=receiver.url)
    result = segue.ok("destinations", "test", created["id"], "--type", "identify")
    [request] = receiver.received
    assert request["path"] == "/hook" and request["body"]["type"] == "identify"
    assert request["headers"]["X-Signature"]
    assert "Delivered" in result.stdout and "200" in result.stdout and SECRET not in result.stdout


def test_test_json_is_the_report(segue, web, receiver):
    created = _webhook(segue, url=receiver.url)  # disabled instances can be tested too
    report = segue.one("destinations", "test", created["id"])
    assert report["delivered"] is True and report["type"] == "track"
    [exchange] = report["requests"]
    assert exchange["request"]["url"] == receiver.url and exchange["response"]["status"] == 200
    assert receiver.received[0]["body"]["messageId"] == report["event"]["messageId"]


def test_test_exits_1_when_not_delivered(segue, web, receiver):
    receiver.status = 500
    created = _webhook(segue, url=receiver.url)
    result = segue("destinations", "test", created["id"], "--json")
    assert result.exit_code == 1 and "not delivered" in result.stderr
    assert json.loads(result.stdout)["requests"][0]["response"]["status"] == 500
    assert "Not delivered" in segue("destinations", "test", created["id"]).stdout


def test_test_reports_a_connection_error(segue, web):
    created = _webhook(segue, url="http://127.0.0.1:9/unreachable")
    result = segue("destinations", "test", created["id"])
    assert result.exit_code == 1 and "Error" in result.stdout and "not delivered" in result.stderr


def test_delivery_reads_the_records_the_server_keeps(segue, web):
    import asyncio

    from segue.config import Settings
    from segue.pipeline.router import open_delivery_stores

    created = segue.one("destinations", "create", "webhook", "--source", "web", "--setting", "url=http://127.0.0.1:9/")

    async def record() -> None:
        retries, stats = open_delivery_stores(Settings.load(environ={}, data_dir=segue.data_dir))
        stats.record_delivered(created["id"], 12.0)
        stats.record_filtered(created["id"], "integrations object")
        await stats.flush()
        await stats.close()
        await retries.close()

    asyncio.run(record())
    summary = segue.one("destinations", "delivery", created["id"])
    assert (summary["delivered"], summary["filtered"]) == (1, {"integrations object": 1})
    assert "delivered 1" in segue.ok("destinations", "delivery", created["id"]).stdout
