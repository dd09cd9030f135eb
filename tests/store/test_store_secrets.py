"""Secrets at rest: the SecretBox, the secret key and what reaches the database."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import threading

import pytest
from cryptography.fernet import Fernet

from segue.config import Settings
from segue.errors import ConfigError
from segue.store import SecretBox, Store
from segue.store.secrets import generate_secret_key, load_secret_key
from tests.store.conftest import all_details_text, raw_database_bytes

SECRET = "sk_live_PLAINTEXT_93be01"
UPDATED_SECRET = "sk_live_PLAINTEXT_updated_5d2"


def _settings(tmp_path, **overrides) -> Settings:
    return Settings.load(environ={}, data_dir=tmp_path / "data", **overrides)


def test_a_box_seals_and_opens_a_mapping():
    box = SecretBox(Fernet.generate_key())
    token = box.encrypt({"api_key": SECRET, "other": "x"})
    assert SECRET not in token
    assert box.decrypt(token) == {"api_key": SECRET, "other": "x"}
    assert box.encrypt({}) is None and box.decrypt(None) == {}


def test_another_key_cannot_open_it_and_says_why():
    token = SecretBox(Fernet.generate_key()).encrypt({"api_key": SECRET})
    with pytest.raises(ConfigError, match="the secret key differs from the one they were saved with"):
        SecretBox(Fernet.generate_key()).decrypt(token)


@pytest.mark.parametrize("bad", ["short", "x" * 44, Fernet.generate_key().decode()[:-2]])
def test_a_bad_secret_key_setting_explains_the_format(tmp_path, bad):
    with pytest.raises(ConfigError, match="SEGUE_SECRET_KEY is not a valid secret key") as caught:
        load_secret_key(_settings(tmp_path, secret_key=bad))
    assert "URL-safe base64" in caught.value.message and "Fernet.generate_key()" in caught.value.message


def test_the_secret_key_setting_wins_and_no_file_is_made(tmp_path):
    key = generate_secret_key()
    assert load_secret_key(_settings(tmp_path, secret_key=f" {key}\n")) == key.encode()
    assert not (tmp_path / "data" / "secret.key").exists()


def test_the_key_file_is_made_private_on_first_use_and_reused(tmp_path):
    settings = _settings(tmp_path)
    key = load_secret_key(settings)
    path = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().strip() == key
    assert load_secret_key(settings) == key
    assert [name for name in os.listdir(path.parent)] == ["secret.key"]  # no temporary file left


def test_a_damaged_key_file_is_named_in_the_error(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_text("not a key\n")
    with pytest.raises(ConfigError, match="the key file .*secret.key is not a valid secret key"):
        load_secret_key(_settings(tmp_path))


def test_threads_starting_together_agree_on_one_key(tmp_path):
    settings, keys, barrier = _settings(tmp_path), [], threading.Barrier(8)

    def load() -> None:
        barrier.wait()
        keys.append(load_secret_key(settings))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1


def test_processes_starting_together_agree_on_one_key(tmp_path):
    go = tmp_path / "go"
    script = textwrap.dedent(f"""
        import pathlib, time
        from segue.config import Settings
        from segue.store.secrets import load_secret_key
        settings = Settings.load(environ={{}}, data_dir={str(tmp_path / "data")!r})
        print("ready", flush=True)
        while not pathlib.Path({str(go)!r}).exists():
            time.sleep(0.002)
        print(load_secret_key(settings).decode())
    """)
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    assert [process.stdout.readline().strip() for process in processes] == ["ready"] * 4
    go.touch()  # every process is past its imports: they race for the key file
    keys = {process.communicate(timeout=30)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert keys == {(tmp_path / "data" / "secret.key").read_text().strip()}


def test_reopening_a_store_reuses_the_key(store_url, tmp_path):
    settings = _settings(tmp_path, database_url=store_url)
    with Store.open(settings) as first:
        source = first.create_source("web", "javascript")
        destination = first.create_destination(source_id=source.id, catalog_slug="x", name="X", mode="cloud",
                                               enabled=True, settings={}, secrets={"k": SECRET}, actor="a")  # fmt: skip
    with Store.open(settings) as second:
        assert second.get_destination(destination.id).secrets == {"k": SECRET}


def test_a_store_with_another_key_cannot_read_the_secrets(store, source):
    created = store.create_warehouse(engine="postgres", name="W", settings={}, secrets={"password": SECRET},
                                     sync_interval_seconds=60, max_warehouses=None, actor="a")  # fmt: skip
    other = Store(store.url, SecretBox(Fernet.generate_key()))
    try:
        with pytest.raises(ConfigError, match="cannot decrypt the stored secrets"):
            other.get_warehouse(created.id)
    finally:
        other.close()


def test_a_store_without_a_box_refuses_secrets_but_not_the_rest(store, source):
    saved = store.create_destination(source_id=source.id, catalog_slug="x", name="Sealed", mode="cloud",
                                     enabled=True, settings={}, secrets={"k": SECRET}, actor="a")  # fmt: skip
    bare = Store(store.url)
    try:
        with pytest.raises(ConfigError, match="opened without a secret key"):
            bare.create_destination(source_id=source.id, catalog_slug="x", name="Y", mode="cloud",
                                    enabled=True, settings={}, secrets={"k": "v"}, actor="a")  # fmt: skip
        with pytest.raises(ConfigError, match="opened without a secret key"):
            bare.get_destination(saved.id)
        plain = bare.create_destination(source_id=source.id, catalog_slug="x", name="Plain", mode="cloud",
                                        enabled=True, settings={}, secrets={}, actor="a")  # fmt: skip
        assert bare.get_destination(plain.id).secrets == {}
        assert [source.name for source in bare.list_sources()] == ["Web"]
    finally:
        bare.close()


def test_secret_values_never_reach_the_database_in_plaintext(store, source):
    destination = store.create_destination(source_id=source.id, catalog_slug="x", name="X", mode="cloud",
                                           enabled=True, settings={"public": "visible"}, secrets={"k": SECRET},
                                           actor="a")  # fmt: skip
    warehouse = store.create_warehouse(engine="postgres", name="W", settings={}, secrets={"password": SECRET},
                                       sync_interval_seconds=60, max_warehouses=None, actor="a")  # fmt: skip
    store.update_destination(destination.id, secrets={"k": UPDATED_SECRET}, actor="a")
    store.update_warehouse(warehouse.id, secrets={"password": UPDATED_SECRET}, actor="a")
    raw = raw_database_bytes(store)
    assert b"visible" in raw  # the scan does see stored values
    assert SECRET.encode() not in raw and UPDATED_SECRET.encode() not in raw
    assert SECRET not in all_details_text(store) and UPDATED_SECRET not in all_details_text(store)
    assert store.get_destination(destination.id).secrets == {"k": UPDATED_SECRET}
