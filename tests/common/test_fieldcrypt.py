"""Field encryption at rest: AES-GCM round trips, the keyed-hash index, rotation, and clear errors for bad keys."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.common.fieldcrypt import FieldKeyError, Keyring

ID = "420702199001011234"
runner = CliRunner()


def test_round_trip_hides_the_value_and_differs_every_time() -> None:
    ring = Keyring.generate()
    one, two = ring.encrypt("document.number", ID), ring.encrypt("document.number", ID)
    assert ID not in one and one != two
    assert ring.decrypt("document.number", one) == ID == ring.decrypt("document.number", two)
    assert ring.key_id(one) == "k1"


def test_index_is_equal_for_equal_values_keyed_and_bound_to_the_field() -> None:
    ring = Keyring.generate()
    assert ring.index("document.number", ID) == ring.index("document.number", ID)
    assert ring.index("document.number", ID) != ring.index("person.phone", ID)
    assert ring.index("document.number", ID) != Keyring.generate().index("document.number", ID)
    assert ID not in ring.index("document.number", ID) and len(ring.index("document.number", ID)) == 64


def test_the_kept_ciphers_and_index_states_give_what_fresh_ones_give() -> None:
    # The keyring keeps each key's cipher and each field's HMAC state (issue 19: an import seals millions of
    # values): every index is still HMAC-SHA256(index key, field NUL value), whatever was indexed before, and a
    # token made by one keyring object decrypts under another built from the same keys, in both directions.
    ring = Keyring.generate()
    values = [ID, "13800000000", "", "张三", ID[:-1] + "X", ID]
    for column in ("document.number", "person.phone", "document.number"):
        for value in values:
            expected = hmac.new(
                ring.index_key, column.encode() + b"\0" + value.encode(), hashlib.sha256
            ).hexdigest()
            assert ring.index(column, value) == expected
    twin = Keyring.from_json(ring.to_json())
    assert twin == ring
    for value in values:
        assert twin.decrypt("person.phone", ring.encrypt("person.phone", value)) == value
        assert ring.decrypt("person.phone", twin.encrypt("person.phone", value)) == value
    rotated = ring.rotated()
    old = ring.encrypt("document.number", ID)
    assert rotated.decrypt("document.number", old) == ID
    assert rotated.key_id(rotated.encrypt("document.number", ID)) == rotated.primary != ring.primary
    assert rotated.index("document.number", ID) == ring.index("document.number", ID)


def test_a_value_moved_to_another_field_or_altered_does_not_decrypt() -> None:
    ring = Keyring.generate()
    token = ring.encrypt("document.number", ID)
    with pytest.raises(FieldKeyError) as moved:
        ring.decrypt("person.phone", token)
    assert moved.value.code == "crypto.wrong_key"
    altered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(FieldKeyError) as changed:
        ring.decrypt("document.number", altered)
    assert changed.value.code == "crypto.wrong_key"


def test_wrong_key_gives_a_clear_error_naming_the_key() -> None:
    token = Keyring.generate().encrypt("document.number", ID)
    with pytest.raises(FieldKeyError) as wrong:
        Keyring.generate().decrypt("document.number", token)
    assert wrong.value.code == "crypto.wrong_key"
    assert "k1" in wrong.value.message_en and "wrong key file" in wrong.value.message_en
    assert wrong.value.data == {"field": "document.number", "kid": "k1"}


def test_rotation_reencrypts_under_the_new_key_and_keeps_the_index() -> None:
    old = Keyring.generate()
    token = old.encrypt("person.phone", "13800138000")
    new = old.rotated()
    assert new.primary == "k2" and set(new.data_keys) == {"k1", "k2"}
    assert new.decrypt("person.phone", token) == "13800138000"
    again = new.reencrypt("person.phone", token)
    assert new.key_id(again) == "k2" and new.reencrypt("person.phone", again) == again
    assert new.index("person.phone", "13800138000") == old.index("person.phone", "13800138000")
    retired = new.retired("k1")
    assert retired.decrypt("person.phone", again) == "13800138000"
    with pytest.raises(FieldKeyError) as unknown:
        retired.decrypt("person.phone", token)
    assert unknown.value.code == "crypto.unknown_key"
    with pytest.raises(FieldKeyError) as primary:
        retired.retired("k2")
    assert primary.value.code == "crypto.retire_primary"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("not json", "keyring"),
        ("{}", "data_keys"),
        ('{"primary": "k1", "data_keys": {"k1": "c2hvcnQ="}, "index_key": ""}', "data_keys.k1"),
        ('{"primary": "k1", "data_keys": {"k1": "!!"}, "index_key": ""}', "data_keys.k1"),
    ],
)
def test_a_malformed_keyring_names_what_is_wrong(text: str, field: str) -> None:
    with pytest.raises(FieldKeyError) as bad:
        Keyring.from_json(text)
    assert bad.value.code == "crypto.bad_keyring" and bad.value.data["field"] == field


def test_primary_must_be_a_data_key_and_index_key_must_be_32_bytes() -> None:
    data = json.loads(Keyring.generate().to_json())
    with pytest.raises(FieldKeyError) as primary:
        Keyring.from_json(json.dumps({**data, "primary": "zz"}))
    assert primary.value.data["field"] == "primary"
    with pytest.raises(FieldKeyError) as index:
        Keyring.from_json(json.dumps({**data, "index_key": "c2hvcnQ="}))
    assert index.value.data["field"] == "index_key"


def test_no_keys_configured_or_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FieldKeyError) as none:
        Keyring.load(None, None)
    assert none.value.code == "crypto.no_keys"
    with pytest.raises(FieldKeyError) as missing:
        Keyring.load(None, str(tmp_path / "absent.json"))
    assert missing.value.code == "crypto.key_file_unreadable"
    assert str(tmp_path) not in missing.value.message_en


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    env, file = Keyring.generate("env"), Keyring.generate("file")
    file.save(tmp_path / "keys.json")
    assert Keyring.load(env.to_json(), str(tmp_path / "keys.json")).primary == "env"
    assert Keyring.load(None, str(tmp_path / "keys.json")).primary == "file"


def test_cli_generate_rotate_retire_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "field.keys"
    monkeypatch.delenv("LIANGSHI_FIELD_KEYS", raising=False)
    monkeypatch.setenv("LIANGSHI_FIELD_KEY_FILE", str(path))
    # No database here (a keyring alone): the rotation and the check touch no rows.
    monkeypatch.setenv("LIANGSHI_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    made = runner.invoke(app, ["keys", "generate"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["data_keys"] == ["k1"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = Keyring.load(None, str(path)).encrypt("person.phone", "13800138000")
    again = runner.invoke(app, ["keys", "generate"])
    assert again.exit_code == 2 and "keys.file_exists" in again.output
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.output) == {"file": str(path), "primary": "k2", "data_keys": ["k1", "k2"]}
    assert Keyring.load(None, str(path)).decrypt("person.phone", token) == "13800138000"
    checked = runner.invoke(app, ["keys", "check"])
    assert checked.exit_code == 0 and json.loads(checked.output)["primary"] == "k2"
    assert Keyring.load(None, str(path)).to_json().split('"k2": "')[1][:20] not in checked.output
    unknown = runner.invoke(app, ["keys", "retire", "k9"])
    assert unknown.exit_code == 2 and "keys.unknown_kid" in unknown.output
    retired = runner.invoke(app, ["keys", "retire", "k1"])
    assert retired.exit_code == 0 and json.loads(retired.output)["data_keys"] == ["k2"]
    primary = runner.invoke(app, ["keys", "retire", "k2"])
    assert primary.exit_code == 2 and "crypto.retire_primary" in primary.output


def test_cli_check_with_a_corrupt_key_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "field.keys"
    path.write_text("{", encoding="utf-8")
    monkeypatch.delenv("LIANGSHI_FIELD_KEYS", raising=False)
    monkeypatch.setenv("LIANGSHI_FIELD_KEY_FILE", str(path))
    monkeypatch.setenv("LIANGSHI_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    result = runner.invoke(app, ["keys", "check"])
    assert result.exit_code == 2 and "crypto.bad_keyring" in result.output
