"""A throw-away PKI for the TLS end-to-end test: a private CA, a SuperLink certificate for 127.0.0.1/localhost
signed by it, a second CA the clients must not trust, and P-384 node keys in OpenSSH form (as `ssh-keygen -t ecdsa
-b 384` writes them, with `.pub` beside each for `flwr supernode register`).

usage: python make_test_pki.py OUT_DIR NODE_NAME...   (uses `cryptography`, which flwr depends on)
"""

import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def write_key(path: Path, key, encoding_format) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, encoding_format, serialization.NoEncryption()))
    path.chmod(0o600)


def make_ca(out: Path, stem: str, now: datetime.datetime):
    key = ec.generate_private_key(ec.SECP384R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(f"BackdoorLab test {stem}"))
        .issuer_name(name(f"BackdoorLab test {stem}"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA384())
    )
    (out / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, ca_cert = make_ca(out, "ca", now)
    make_ca(out, "other-ca", now)

    server_key = ec.generate_private_key(ec.SECP384R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA384())
    )
    (out / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    write_key(out / "server.key", server_key, serialization.PrivateFormat.PKCS8)

    for node in sys.argv[2:]:
        key = ec.generate_private_key(ec.SECP384R1())
        write_key(out / f"{node}.key", key, serialization.PrivateFormat.OpenSSH)
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        (out / f"{node}.key.pub").write_bytes(public + f" {node}\n".encode())


if __name__ == "__main__":
    main()
