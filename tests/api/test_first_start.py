"""First start: the owner account, with a given or a generated one-time password."""

from __future__ import annotations

import logging

from segue.config import Settings
from segue.server import ensure_owner_account
from segue.store import Store


def test_first_start_prints_a_one_time_password_once(tmp_path, caplog):
    settings = Settings.load(environ={}, data_dir=tmp_path)
    with Store.open(settings) as store, caplog.at_level(logging.WARNING, logger="segue.server"):
        ensure_owner_account(store, settings)
        ensure_owner_account(store, settings)
        lines = [record.getMessage() for record in caplog.records if "one-time password" in record.getMessage()]
        assert len(lines) == 1, "only the first start creates the owner"
        password = lines[0].split("one-time password: ")[1].split()[0]
        owner = store.authenticate("admin", password)
        assert owner is not None and owner.role == "owner"


def test_admin_user_and_password_from_the_environment(tmp_path, caplog):
    environ = {"SEGUE_ADMIN_USER": "root", "SEGUE_ADMIN_PASSWORD": "a long passphrase"}
    settings = Settings.load(environ=environ, data_dir=tmp_path)
    with Store.open(settings) as store, caplog.at_level(logging.WARNING, logger="segue.server"):
        ensure_owner_account(store, settings)
        assert "one-time password" not in caplog.text
        assert store.authenticate("root", "a long passphrase").role == "owner"
        assert store.authenticate("root", "wrong password") is None
