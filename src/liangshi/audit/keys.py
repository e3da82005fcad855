"""The Ed25519 keys that sign the audit log's tree heads: where they live, first use, rotation.

The signing key comes from LIANGSHI_AUDIT_SIGNING_KEY (base64 of the 32-byte private key) or from the key file
(LIANGSHI_AUDIT_KEY_FILE, default `<data_dir>/audit-keys/signing.key`), generated there on first use with mode
0600. Every public key ever used is kept beside it in `public/<key id>.pub`, so heads signed before a rotation
still verify. The keys live outside the database on purpose: whoever can rewrite the database cannot sign.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from liangshi.config import Settings
from liangshi.errors import LiangshiError


class KeyUnavailable(LiangshiError):
    """No usable signing key: a fault of the server's set-up, not of the caller's request."""

    http_status = 503


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A public key's id: the first 16 hex digits of SHA-256 over its raw bytes."""
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


@dataclass
class Keyring:
    """The current signing key (if any) and every public key that may have signed a head."""

    signer: Ed25519PrivateKey | None = None
    public: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @property
    def signer_id(self) -> str | None:
        """The id of the current signing key."""
        return key_id(self.signer.public_key()) if self.signer else None

    def sign(self, message: bytes) -> tuple[str, str]:
        """(key id, base64 signature) of the message with the current key."""
        if self.signer is None:
            raise KeyUnavailable("audit.no_signing_key", "没有审计签名密钥", "No audit signing key")
        return key_id(self.signer.public_key()), base64.b64encode(self.signer.sign(message)).decode()

    def check(self, kid: str, message: bytes, signature: str) -> str | None:
        """None when a known key signed the message, else what is wrong ("unknown_key", "bad_signature")."""
        key = self.public.get(kid)
        if key is None:
            return "unknown_key"
        try:
            key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return "bad_signature"
        return None


def key_dir(settings: Settings) -> Path:
    """The folder of the key file and of the kept public keys."""
    if settings.audit_key_file:
        return Path(settings.audit_key_file).parent
    return Path(settings.data_dir) / "audit-keys"


def key_file(settings: Settings) -> Path:
    """The signing key file."""
    return Path(settings.audit_key_file) if settings.audit_key_file else key_dir(settings) / "signing.key"


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    tmp = path.with_suffix(".tmp")
    # 0600 from creation on, never world-readable even for a moment (GB/T 22239 8.1.4.4 protects audit records).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(raw) + b"\n")
    os.replace(tmp, path)


def _keep_public(settings: Settings, key: Ed25519PublicKey) -> None:
    folder = key_dir(settings) / "public"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{key_id(key)}.pub"
    if not target.exists():
        target.write_text(base64.b64encode(_raw_public(key)).decode() + "\n")


def _private_from(text: str) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError as exc:
        raise KeyUnavailable(
            "audit.bad_signing_key", "审计签名密钥格式错误", "The audit signing key is malformed"
        ) from exc


def load(settings: Settings, *, create: bool = False) -> Keyring:
    """The keyring: the signing key (made on first use when `create`) and the kept public keys."""
    signer: Ed25519PrivateKey | None = None
    if settings.audit_signing_key:
        signer = _private_from(settings.audit_signing_key)
    else:
        path = key_file(settings)
        if path.exists():
            signer = _private_from(path.read_text())
        elif create:
            signer = Ed25519PrivateKey.generate()
            _write_private(path, signer)
    if signer is not None and (create or settings.audit_signing_key is None):
        _keep_public(settings, signer.public_key())
    ring = Keyring(signer=signer)
    folder = key_dir(settings) / "public"
    if folder.is_dir():
        for pub in sorted(folder.glob("*.pub")):
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(pub.read_text().strip()))
            ring.public[key_id(key)] = key
    if signer is not None:
        ring.public[key_id(signer.public_key())] = signer.public_key()
    return ring


def rotate(settings: Settings) -> tuple[str | None, str]:
    """Replace the signing key by a new one, keeping the old public key; (old id, new id)."""
    if settings.audit_signing_key:
        raise KeyUnavailable(
            "audit.key_from_environment",
            "签名密钥来自环境变量：请在环境中更换，并保留旧公钥",
            "The signing key comes from the environment: replace it there and keep the old public key",
        )
    old = load(settings).signer
    if old is not None:
        _keep_public(settings, old.public_key())
    new = Ed25519PrivateKey.generate()
    _write_private(key_file(settings), new)
    _keep_public(settings, new.public_key())
    return (key_id(old.public_key()) if old else None), key_id(new.public_key())


def public_pem(key: Ed25519PublicKey) -> str:
    """A public key as PEM, to publish beside the heads."""
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
