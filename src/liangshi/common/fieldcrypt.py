"""Field encryption at rest: AES-256-GCM ciphertexts and a keyed-hash (HMAC-SHA256) index.

A keyring holds several data keys, each under a short id, one of them primary (new values are encrypted under it),
and one index key. A ciphertext names the key that made it (``v1:<kid>:<base64 nonce+ciphertext>``) and is bound
to its field by the associated data, so a value copied into another column does not decrypt. The index is
``HMAC-SHA256(index key, field NUL value)``: equal values give equal index entries, so a look-up, a search or a
join compares index entries instead of numbers. Rotating the data keys re-encrypts values and leaves the index
as it is; the index key does not rotate with them (see docs/encryption.md for why, and for how to replace it).

The keyring comes from ``LIANGSHI_FIELD_KEYS`` (its JSON text) or from the file ``LIANGSHI_FIELD_KEY_FILE``::

    {"primary": "k2", "data_keys": {"k1": "<base64 32 bytes>", "k2": "…"}, "index_key": "<base64 32 bytes>"}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from liangshi.errors import LiangshiError

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12


class FieldKeyError(LiangshiError):
    """The keyring is missing or malformed, or a value does not decrypt under it."""

    http_status = 500


def _bad_token() -> FieldKeyError:
    return FieldKeyError(
        "crypto.bad_token", "不是本系统的密文", "Not a ciphertext of this system", {"field": "ciphertext"}
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise FieldKeyError(
            "crypto.bad_keyring",
            "字段加密密钥环格式错误（见 field 所指部分）",
            "The field keyring is malformed (see the part named by field)",
            {"field": what},
        ) from exc


def _key(text: Any, what: str) -> bytes:
    raw = _unb64(text, what) if isinstance(text, str) else b""
    if len(raw) != KEY_BYTES:
        raise FieldKeyError(
            "crypto.bad_keyring",
            "字段加密密钥环格式错误（见 field 所指部分）",
            "The field keyring is malformed (see the part named by field)",
            {"field": what},
        )
    return raw


@dataclass(frozen=True)
class Keyring:
    """Data keys by id (one primary) and the index key."""

    primary: str
    data_keys: dict[str, bytes] = field(repr=False)
    index_key: bytes = field(repr=False)
    # Per keyring, made once: the AES-GCM cipher of each data key, and per field the HMAC state that has taken
    # the key and the field's name (an import seals and indexes millions of values; setting up the key schedule
    # and the HMAC's padded key for each one cost more than the encryption and the hash themselves).
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, init=False, repr=False, compare=False)
    _index_states: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    # -- building and storing --------------------------------------------------------------------------------

    @staticmethod
    def generate(kid: str = "k1") -> Keyring:
        """A fresh keyring: one data key (primary) and one index key."""
        return Keyring(kid, {kid: secrets.token_bytes(KEY_BYTES)}, secrets.token_bytes(KEY_BYTES))

    @staticmethod
    def from_json(text: str) -> Keyring:
        """Parse the keyring's JSON text; a clear error naming what is wrong."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FieldKeyError(
                "crypto.bad_keyring",
                "字段加密密钥环格式错误（见 field 所指部分）",
                "The field keyring is malformed (see the part named by field)",
                {"field": "keyring"},
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("data_keys"), dict) or not data["data_keys"]:
            raise FieldKeyError(
                "crypto.bad_keyring",
                "字段加密密钥环格式错误（见 field 所指部分）",
                "The field keyring is malformed (see the part named by field)",
                {"field": "data_keys"},
            )
        keys = {str(kid): _key(value, f"data_keys.{kid}") for kid, value in data["data_keys"].items()}
        for kid in keys:
            if not kid or ":" in kid or len(kid) > 16:
                raise FieldKeyError(
                    "crypto.bad_keyring",
                    "字段加密密钥环格式错误（见 field 所指部分）",
                    "The field keyring is malformed (see the part named by field)",
                    {"field": "data_keys"},
                )
        primary = data.get("primary")
        if primary not in keys:
            raise FieldKeyError(
                "crypto.bad_keyring",
                "字段加密密钥环格式错误（见 field 所指部分）",
                "The field keyring is malformed (see the part named by field)",
                {"field": "primary"},
            )
        return Keyring(str(primary), keys, _key(data.get("index_key"), "index_key"))

    def to_json(self) -> str:
        """The keyring's JSON text (secret: store it with mode 0600)."""
        return json.dumps(
            {
                "primary": self.primary,
                "data_keys": {kid: _b64(key) for kid, key in self.data_keys.items()},
                "index_key": _b64(self.index_key),
            },
            indent=2,
        )

    def save(self, path: Path) -> None:
        """Write the keyring to `path`, readable by its owner only."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.to_json())
        os.chmod(path, 0o600)

    @staticmethod
    def load(env_text: str | None, file: str | None) -> Keyring:
        """The keyring from the environment's JSON text, else from the key file; an error when neither."""
        if env_text:
            return Keyring.from_json(env_text)
        if not file:
            raise FieldKeyError(
                "crypto.no_keys",
                "未配置字段加密密钥（LIANGSHI_FIELD_KEYS 或 LIANGSHI_FIELD_KEY_FILE）",
                "No field encryption keys configured (LIANGSHI_FIELD_KEYS or LIANGSHI_FIELD_KEY_FILE)",
                {"field": "field_key_file"},
            )
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FieldKeyError(
                "crypto.key_file_unreadable",
                "无法读取字段加密密钥文件",
                "The field encryption key file cannot be read",
                {"field": "field_key_file"},
            ) from exc
        return Keyring.from_json(text)

    def rotated(self, kid: str | None = None) -> Keyring:
        """This keyring with a new primary data key; the old keys stay to decrypt, the index key stays."""
        new = kid or f"k{len(self.data_keys) + 1}"
        while new in self.data_keys:
            new = f"{new}x"
        keys = {**self.data_keys, new: secrets.token_bytes(KEY_BYTES)}
        return Keyring(new, keys, self.index_key)

    def retired(self, kid: str) -> Keyring:
        """This keyring without data key `kid` (once nothing is encrypted under it any more)."""
        if kid == self.primary:
            raise FieldKeyError(
                "crypto.retire_primary",
                "不能删除主密钥",
                "The primary key cannot be retired",
                {"field": "kid", "kid": kid},
            )
        return Keyring(self.primary, {k: v for k, v in self.data_keys.items() if k != kid}, self.index_key)

    # -- values ------------------------------------------------------------------------------------------------

    def encrypt(self, column: str, value: str) -> str:
        """`value` encrypted under the primary key, bound to `column` (e.g. "document.number")."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._cipher(self.primary).encrypt(nonce, value.encode("utf-8"), column.encode("utf-8"))
        return f"{VERSION}:{self.primary}:{_b64(nonce + sealed)}"

    def key_id(self, token: str) -> str:
        """The id of the data key that made `token`."""
        return _parse(token)[0]

    def decrypt(self, column: str, token: str) -> str:
        """The clear value of `token`; a clear error for an unknown key, a wrong key or a moved value."""
        kid, raw = _parse(token)
        key = self.data_keys.get(kid)
        if key is None:
            raise FieldKeyError(
                "crypto.unknown_key",
                f"密文由密钥 {kid} 加密，但密钥环中没有它",
                f"The value is encrypted under key {kid}, which the keyring does not hold",
                {"field": column, "kid": kid},
            )
        try:
            clear = self._cipher(kid).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], column.encode("utf-8"))
        except InvalidTag as exc:
            raise FieldKeyError(
                "crypto.wrong_key",
                f"密钥 {kid} 无法解密该值：密钥文件错误，或密文被改动或移到了别的字段",
                f"Key {kid} does not decrypt the value: a wrong key file, or the ciphertext was altered or "
                "moved to another field",
                {"field": column, "kid": kid},
            ) from exc
        return clear.decode("utf-8")

    def reencrypt(self, column: str, token: str) -> str:
        """`token` re-encrypted under the primary key (unchanged when it already is)."""
        if self.key_id(token) == self.primary:
            return token
        return self.encrypt(column, self.decrypt(column, token))

    def index(self, column: str, value: str) -> str:
        """The keyed hash of `value` in `column`: hex, 64 characters; equal values give equal indexes."""
        state = self._index_states.get(column)
        if state is None:
            state = hmac.new(self.index_key, column.encode("utf-8") + b"\0", hashlib.sha256)
            self._index_states[column] = state
        mac = state.copy()
        mac.update(value.encode("utf-8"))
        return str(mac.hexdigest())

    def _cipher(self, kid: str) -> AESGCM:
        """The AES-GCM cipher of data key `kid` (which must be in the keyring)."""
        cipher = self._ciphers.get(kid)
        if cipher is None:
            cipher = AESGCM(self.data_keys[kid])
            self._ciphers[kid] = cipher
        return cipher


def _parse(token: str) -> tuple[str, bytes]:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION or not parts[1]:
        raise _bad_token()
    try:
        raw = base64.b64decode(parts[2].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise _bad_token() from exc
    if len(raw) < NONCE_BYTES + 16:
        raise _bad_token()
    return parts[1], raw
