"""A local RFC 3161 time-stamping authority for the tests: a self-signed certificate with
the critical timeStamping extended key usage, and an HTTP server on 127.0.0.1 answering
``application/timestamp-query`` with ``application/timestamp-reply``."""

import contextlib
import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from asn1crypto import algos, cms, core, tsp, x509  # type: ignore[import-untyped]  # no stubs
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

POLICY = "1.3.6.1.4.1.55555.1.1"  # an arbitrary policy: the tests' authority has its own


@dataclass
class Authority:
    """A time-stamping authority's key and self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: cx509.Certificate
    serial: int = 0
    clock: Any = field(default=lambda: dt.datetime.now(dt.UTC))

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def respond(self, request_der: bytes) -> bytes:
        """A granted TimeStampResp for one TimeStampReq."""
        request = tsp.TimeStampReq.load(request_der)
        self.serial += 1
        info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": POLICY,
                "message_imprint": request["message_imprint"],
                "serial_number": self.serial,
                "gen_time": self.clock().replace(microsecond=0),
                "accuracy": {"seconds": 1},
                "nonce": request["nonce"].native,
            }
        )
        token = self._sign(info, include_certificate=bool(request["cert_req"].native))
        reply = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})
        return bytes(reply.dump())

    def _sign(self, info: tsp.TSTInfo, *, include_certificate: bool) -> cms.ContentInfo:
        content = info.dump()
        cert_der = self.certificate.public_bytes(serialization.Encoding.DER)
        certificate = x509.Certificate.load(cert_der)
        attributes = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
                {
                    "type": "signing_certificate_v2",
                    "values": [{"certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]}],
                },
            ]
        )
        signature = self.key.sign(attributes.dump(), ec.ECDSA(hashes.SHA256()))
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": certificate.issuer,
                            "serial_number": certificate.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": attributes,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(content),
                },
                "certificates": [certificate] if include_certificate else [],
                "signer_infos": [signer],
            }
        )
        return cms.ContentInfo({"content_type": "signed_data", "content": signed})


def make_authority(name: str = "Test time-stamping authority") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, certificate)


@dataclass
class RunningAuthority:
    authority: Authority
    url: str
    requests: list[bytes]


def _handler(authority: Authority, requests: list[bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415, "expected application/timestamp-query")
                return
            requests.append(body)
            reply = authority.respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet in the test output

    return Handler


@contextlib.contextmanager
def serving(authority: Authority) -> Iterator[RunningAuthority]:
    """The authority answering on 127.0.0.1 until the block ends."""
    requests: list[bytes] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(authority, requests))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningAuthority(authority, f"http://127.0.0.1:{server.server_port}/tsa", requests)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local_tsa() -> Iterator[RunningAuthority]:
    """A time-stamping authority answering on 127.0.0.1 for the length of one test."""
    with serving(make_authority()) as running:
        yield running
