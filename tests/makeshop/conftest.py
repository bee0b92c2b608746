"""Fixtures for the MakeShop client and sandbox: local servers, never the Internet."""

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from malls.makeshop import MakeShopClient
from malls.makeshop.sandbox import make_server
from malls.makeshop.sandbox import server as sandbox_server
from tests.log_capture import logs  # noqa: F401  (the canary tests' log capture)

from .fault_server import FaultServer, closed_port_url

ROOMY = {"connect_timeout": 2.0, "read_timeout": 2.0, "deadline": 4.0, "max_bytes": 64_000}
IMPATIENT = ROOMY | {"read_timeout": 0.5, "deadline": 1.5}


@pytest.fixture
def make_sandbox():
    """Start sandboxes (``make_server`` arguments) and stop them after the test."""
    started = []

    def start(**options):
        server = make_server(**options).start_in_thread()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()


@pytest.fixture
def sandbox(make_sandbox):
    """A fresh sandbox with the demo shops and MakeShop's real rate limit."""
    return make_sandbox()


@pytest.fixture
def make_fault():
    started = []

    def start(behaviour=None, *, tls=None):
        server = FaultServer(behaviour, tls=tls).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fault(make_fault):
    """A scripted server: set ``fault.behaviour`` to what MakeShop should do."""
    return make_fault()


@pytest.fixture
def refused_url():
    return closed_port_url()


@pytest.fixture
def make_client():
    """Clients closed after the test, with limits roomy enough for a loaded machine.

    ``impatient=True`` gives the small limits used against servers that stall:
    those tests wait out the whole deadline, so it must be short.
    """
    clients = []

    def build(base_url, *, impatient=False, **options):
        limits = IMPATIENT if impatient else ROOMY
        client = MakeShopClient(base_url, **limits | options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def sandbox_clock(monkeypatch):
    """Freeze the sandbox's clock so rate-limit tests do not depend on scheduling."""
    clock = FakeClock()
    monkeypatch.setattr(sandbox_server, "monotonic", clock)
    return clock


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, as the path of a PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "goq test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("tls") / "server.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return str(path)


@pytest.fixture
def tls_fault(make_fault, certificate):
    """A scripted server speaking TLS with the self-signed ``certificate``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    return make_fault(tls=context)
