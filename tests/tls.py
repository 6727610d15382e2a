"""A throw-away certificate authority for the tests' TLS servers (SMTP sinks, dovecot), made once a
session with `cryptography` in a temporary folder: a CA, a server certificate it signs for
127.0.0.1 and localhost, one it signs for another name, and a self-signed one nobody trusts.

EC P-256 keys: each is made in a millisecond (RSA-2048 takes about a hundred).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = ("127.0.0.1", "localhost")
ELSEWHERE = "mail.elsewhere.example"


@dataclass(frozen=True)
class Pair:
    """A server's certificate and key, as PEM files."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # what FRONTDESK_EMAIL_CA_FILE names
    loopback: Pair  # signed by the CA, for 127.0.0.1 and localhost
    elsewhere: Pair  # signed by the CA, for another name only
    self_signed: Pair  # for 127.0.0.1 and localhost, signed by itself

    def client_context(self) -> ssl.SSLContext:
        """What a client trusting the test CA (and nothing else) uses."""
        return ssl.create_default_context(cafile=self.ca_file)


def make_certificates(folder: Path) -> Certificates:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Frontdesk test CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return Certificates(
        ca_file=ca_file,
        loopback=_server(folder / "loopback", LOOPBACK, ca, ca_key),
        elsewhere=_server(folder / "elsewhere", (ELSEWHERE,), ca, ca_key),
        self_signed=_server(folder / "self-signed", LOOPBACK, None, None),
    )


def _server(
    stem: Path, names: tuple[str, ...], ca: x509.Certificate | None, ca_key: ec.EllipticCurvePrivateKey | None
) -> Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    issuer, signer = (ca.subject, ca_key) if ca is not None and ca_key is not None else (subject, key)
    certificate = (
        _builder(subject, issuer, key)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(signer, hashes.SHA256())
    )
    pair = Pair(stem.with_suffix(".crt"), stem.with_suffix(".key"))
    pair.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pair


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=2))
    )


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
