"""Signing credentials for content credentials (C2PA): load the user's, or make local ones.

The credentials folder (the caller picks it, e.g. `~/.config/facedub/credentials`) holds
two PEM files:

- `signing-chain.pem`: the signing (leaf) certificate first, then the certificates that
  issued it, up to but not necessarily including a root.
- `signing-key.pem`: the leaf certificate's private key, unencrypted (PKCS#8 or the
  traditional EC/RSA form). EC P-256/P-384/P-521, RSA (signed as PS256) and Ed25519 work.

Put your own pair there to sign with an identity that validators trust. Without them,
facedub creates a local CA and a leaf on first use (EC P-256; the leaf carries
digitalSignature key usage, the emailProtection extended key usage, and subject and
authority key identifiers, which C2PA validators require; a bare self-signed certificate
is refused). Manifests signed that way read back as valid but from an untrusted signer
(`signingCredential.untrusted`): they prove the file is unchanged since signing, not who
signed it. The local CA's key is not kept. Both files are written atomically with mode
0600 in a folder with mode 0700.
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from facedub.errors import FacedubError
from facedub.fsutil import atomic_path

log = logging.getLogger(__name__)

CHAIN_FILE = "signing-chain.pem"
KEY_FILE = "signing-key.pem"
_LOCAL_CA_NAME = "facedub local CA"
# The local leaf names no person: nobody verified who holds the key (the login name, often
# "root" in containers, said nothing true about the author).
LOCAL_SIGNER_NAME = "facedub local signer (identity not verified)"
_LEAF_DAYS = 5 * 365
_CA_DAYS = 10 * 365
_EC_ALGORITHMS = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


@dataclass(frozen=True)
class SigningCredentials:
    """A certificate chain (leaf first) and its key, in PEM, plus the C2PA algorithm name."""

    chain_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    algorithm: str  # es256 | es384 | es512 | ps256 | ed25519
    subject: str  # the leaf's common name
    issuer: str  # the issuing CA's common name
    directory: Path
    created: bool  # made by this call (local CA), rather than loaded


def load_or_create_credentials(config_dir: Path) -> SigningCredentials:
    """Load `signing-chain.pem` and `signing-key.pem` from `config_dir`, or create a local
    CA and leaf there on first use. Raises FacedubError if only one file exists or they
    do not belong together."""
    config_dir = Path(config_dir)
    chain_path, key_path = config_dir / CHAIN_FILE, config_dir / KEY_FILE
    present = [path.exists() for path in (chain_path, key_path)]
    if all(present):
        return _load(chain_path, key_path, created=False)
    if any(present):
        missing = chain_path if not present[0] else key_path
        raise FacedubError(f"{missing} is missing; put both {CHAIN_FILE} and {KEY_FILE} in "
                           f"{config_dir}, or remove the other one to create local credentials")
    _create(config_dir)
    log.info("created local signing credentials in %s (untrusted by validators; put your "
             "own %s and %s there to sign as yourself)", config_dir, CHAIN_FILE, KEY_FILE)
    return _load(chain_path, key_path, created=True)


def _load(chain_path: Path, key_path: Path, created: bool) -> SigningCredentials:
    chain_pem, key_pem = chain_path.read_bytes(), key_path.read_bytes()
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as error:
        raise FacedubError(f"{chain_path.parent}: the signing certificate or key cannot be read "
                           f"({error}); use unencrypted PEM files") from error
    leaf = chain[0]
    if _public_der(key.public_key()) != _public_der(leaf.public_key()):
        raise FacedubError(f"{key_path} does not belong to the first certificate in {chain_path}; "
                           "put the leaf certificate first and its own key beside it")
    now = datetime.datetime.now(datetime.UTC)
    if leaf.not_valid_after_utc < now:
        raise FacedubError(f"{chain_path}: the signing certificate expired on "
                           f"{leaf.not_valid_after_utc:%Y-%m-%d}; renew it, or delete both "
                           "files to create new local credentials")
    return SigningCredentials(chain_pem, key_pem, _algorithm_for(key, key_path),
                              _common_name(leaf.subject), _common_name(leaf.issuer),
                              chain_path.parent, created)


def _public_der(public_key: object) -> bytes:
    encode = getattr(public_key, "public_bytes", None)
    if encode is None:
        return b""
    return bytes(encode(serialization.Encoding.DER,
                        serialization.PublicFormat.SubjectPublicKeyInfo))


def _algorithm_for(key: object, key_path: Path) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise FacedubError(f"{key_path}: this key type cannot sign content credentials; use an "
                       "EC P-256/P-384/P-521, RSA or Ed25519 key")


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _create(config_dir: Path) -> None:
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(_LOCAL_CA_NAME)
    ca = (_base(ca_name, ca_name, ca_key.public_key(), now, _CA_DAYS)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(cert_sign=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (_base(_name(LOCAL_SIGNER_NAME), ca_name, leaf_key.public_key(), now, _LEAF_DAYS)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in (leaf, ca))
    key = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    # The key first: a chain without its key is reported as incomplete, never misused.
    _write_private(config_dir / KEY_FILE, key)
    _write_private(config_dir / CHAIN_FILE, chain)


def _write_private(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        os.chmod(tmp, 0o600)
        tmp.write_bytes(data)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facedub")])


def _base(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
          now: datetime.datetime, days: int) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days)))


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)

