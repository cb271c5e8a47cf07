"""TLS configuration on the standard library's ``ssl`` module, with Twisted's names.

Every "context factory" here has ``getContext() -> ssl.SSLContext``; the reactor's
``listenSSL``/``connectSSL``, ``transport.startTLS`` and the TLS endpoints call it.

- `optionsForClientTLS(hostname)` is what a client should use: it verifies the server's
  certificate chain against the platform's trust store (or ``trustRoot``) and checks the
  certificate names ``hostname`` (RFC 6125), because a TLS client that does not is not secure.
- `CertificateOptions` configures a server (certificate, key, optional client verification)
  or, without a key, a client.
- `DefaultOpenSSLContextFactory(keyFile, certFile)` is a server context from PEM files.
- `Certificate`, `PrivateCertificate`, `KeyPair` load and dump PEM with ``cryptography``;
  `selfSignedPair(hostname)` makes a throw-away key and certificate for tests and demos.

The minimum protocol version is TLS 1.2 unless ``raiseMinimumTo`` asks for more.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "Certificate",
    "CertificateOptions",
    "ClientContextFactory",
    "ClientTLSOptions",
    "DefaultOpenSSLContextFactory",
    "DistinguishedName",
    "KeyPair",
    "PrivateCertificate",
    "TLSVersion",
    "optionsForClientTLS",
    "platformTrust",
    "selfSignedPair",
    "trustRootFromCertificates",
]

#: Protocol versions for ``raiseMinimumTo`` (the standard library's enum).
TLSVersion = ssl.TLSVersion

_DN_NAMES = {
    "commonName": NameOID.COMMON_NAME,
    "CN": NameOID.COMMON_NAME,
    "organizationName": NameOID.ORGANIZATION_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "organizationalUnitName": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "localityName": NameOID.LOCALITY_NAME,
    "L": NameOID.LOCALITY_NAME,
    "stateOrProvinceName": NameOID.STATE_OR_PROVINCE_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "countryName": NameOID.COUNTRY_NAME,
    "C": NameOID.COUNTRY_NAME,
    "emailAddress": NameOID.EMAIL_ADDRESS,
}
_LONG_NAMES = {
    NameOID.COMMON_NAME: "commonName",
    NameOID.ORGANIZATION_NAME: "organizationName",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "organizationalUnitName",
    NameOID.LOCALITY_NAME: "localityName",
    NameOID.STATE_OR_PROVINCE_NAME: "stateOrProvinceName",
    NameOID.COUNTRY_NAME: "countryName",
    NameOID.EMAIL_ADDRESS: "emailAddress",
}


class DistinguishedName(dict[str, str]):
    """An X.509 name as a dict of Twisted's long attribute names (``dn.commonName`` works)."""

    def __getattr__(self, name: str) -> str:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def _toX509(self) -> x509.Name:
        return x509.Name(
            [x509.NameAttribute(_DN_NAMES[k], v) for k, v in self.items() if k in _DN_NAMES]
        )

    @classmethod
    def _fromX509(cls, name: x509.Name) -> DistinguishedName:
        dn = cls()
        for attr in name:
            key = _LONG_NAMES.get(attr.oid, attr.oid.dotted_string)
            value = attr.value
            dn[key] = value.decode("latin-1") if isinstance(value, bytes) else value
        return dn


class KeyPair:
    """A private key (RSA or EC) with PEM loading and dumping and self-signing."""

    def __init__(self, original: Any) -> None:
        self.original = original

    @classmethod
    def generate(cls, size: int = 2048) -> KeyPair:
        """Make a fresh RSA key of ``size`` bits."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=size))

    @classmethod
    def generateEC(cls) -> KeyPair:
        """Make a fresh P-256 key (fast: good for tests)."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def loadPEM(cls, data: bytes | str) -> KeyPair:
        """Load an unencrypted PEM private key."""
        if isinstance(data, str):
            data = data.encode("ascii")
        return cls(serialization.load_pem_private_key(data, password=None))

    load = loadPEM

    def dump(self) -> bytes:
        """Return the key as unencrypted PKCS#8 PEM."""
        return bytes(
            self.original.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def selfSignedCert(self, serialNumber: int, **dn: str) -> PrivateCertificate:
        """Make a certificate for this key, signed by itself, with subject ``dn``."""
        name = DistinguishedName(dn)._toX509()
        return PrivateCertificate(_buildCert(self.original, name, serialNumber, []), self)


def _buildCert(key: Any, name: x509.Name, serial: int, sans: list[x509.GeneralName]) -> Any:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256())


class Certificate:
    """An X.509 certificate (wrapping ``cryptography``'s) with Twisted's accessors."""

    def __init__(self, original: Any) -> None:
        self.original = original

    @classmethod
    def loadPEM(cls, data: bytes | str) -> Certificate:
        """Load the first certificate of a PEM blob."""
        if isinstance(data, str):
            data = data.encode("ascii")
        return cls(x509.load_pem_x509_certificate(data))

    @classmethod
    def loadDER(cls, data: bytes) -> Certificate:
        """Load a DER-encoded certificate."""
        return cls(x509.load_der_x509_certificate(data))

    def dumpPEM(self) -> bytes:
        """Return the certificate as PEM."""
        return bytes(self.original.public_bytes(serialization.Encoding.PEM))

    def dump(self) -> bytes:
        """Return the certificate as PEM (Twisted's default format)."""
        return self.dumpPEM()

    def getSubject(self) -> DistinguishedName:
        """Return the subject's distinguished name."""
        return DistinguishedName._fromX509(self.original.subject)

    def getIssuer(self) -> DistinguishedName:
        """Return the issuer's distinguished name."""
        return DistinguishedName._fromX509(self.original.issuer)

    def serialNumber(self) -> int:
        """Return the certificate's serial number."""
        return int(self.original.serial_number)

    def digest(self, method: str = "md5") -> bytes:
        """Return the hash of the DER form as colon-separated upper-case hex (pyOpenSSL's)."""
        h = hashlib.new(method, self.original.public_bytes(serialization.Encoding.DER))
        return ":".join(f"{b:02X}" for b in h.digest()).encode("ascii")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        return bool(self.original == other.original)

    def __hash__(self) -> int:
        return hash(self.dumpPEM())

    def __repr__(self) -> str:
        subject = self.getSubject().get("commonName", "")
        issuer = self.getIssuer().get("commonName", "")
        return f"<{type(self).__name__} Subject={subject} Issuer={issuer}>"


class PrivateCertificate(Certificate):
    """A certificate together with its private key: what a server presents."""

    keyPath: str | None = None
    certPath: str | None = None

    def __init__(self, original: Any, privateKey: KeyPair | None = None) -> None:
        super().__init__(original)
        self.privateKey = privateKey

    @classmethod
    def loadPEM(cls, data: bytes | str) -> PrivateCertificate:
        """Load a PEM blob holding both the private key and the certificate."""
        if isinstance(data, str):
            data = data.encode("ascii")
        return cls(x509.load_pem_x509_certificate(data), KeyPair.loadPEM(data))

    @classmethod
    def fromCertificateAndKeyPair(
        cls, certificate: Certificate, keyPair: KeyPair
    ) -> PrivateCertificate:
        """Pair an existing certificate with its key."""
        return cls(certificate.original, keyPair)

    def getPrivateKey(self) -> KeyPair:
        """Return the key pair."""
        assert self.privateKey is not None
        return self.privateKey

    def dumpPEM(self) -> bytes:
        """Return the private key and the certificate as one PEM blob."""
        return self.getPrivateKey().dump() + Certificate.dumpPEM(self)

    def options(self, *authorities: Certificate) -> CertificateOptions:
        """Server options presenting this certificate; with authorities, require client certs."""
        return CertificateOptions(
            privateKey=self.getPrivateKey(),
            certificate=self,
            verify=bool(authorities),
            caCerts=list(authorities) or None,
        )


def selfSignedPair(hostname: str = "localhost", directory: str | None = None) -> PrivateCertificate:
    """Make a self-signed certificate for ``hostname`` (and 127.0.0.1/::1 for localhost).

    The key is P-256 so it is quick to make.  With ``directory``, ``key.pem`` and
    ``cert.pem`` are written there and their paths set as ``keyPath``/``certPath``.
    """
    key = KeyPair.generateEC()
    sans: list[x509.GeneralName] = [x509.DNSName(hostname)]
    try:
        sans = [x509.IPAddress(ipaddress.ip_address(hostname))]
    except ValueError:
        if hostname == "localhost":
            sans += [
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    serial = int.from_bytes(os.urandom(8), "big")
    cert = PrivateCertificate(_buildCert(key.original, name, serial, sans), key)
    if directory is not None:
        cert.keyPath = os.path.join(directory, "key.pem")
        cert.certPath = os.path.join(directory, "cert.pem")
        with open(cert.keyPath, "wb") as f:
            f.write(key.dump())
        with open(cert.certPath, "wb") as f:
            f.write(Certificate.dumpPEM(cert))
    return cert


class _PlatformTrust:
    """The operating system's trust store (``SSLContext.load_default_certs``)."""

    def _addTo(self, context: ssl.SSLContext) -> None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)


class _CertificateTrust:
    """Trust exactly the given certificates (e.g. a private CA or a self-signed server)."""

    def __init__(self, certificates: Sequence[Certificate]) -> None:
        self.certificates = list(certificates)

    def _addTo(self, context: ssl.SSLContext) -> None:
        cadata = "".join(Certificate.dumpPEM(c).decode("ascii") for c in self.certificates)
        context.load_verify_locations(cadata=cadata)


def platformTrust() -> Any:
    """Return the trust root of the platform's certificate store."""
    return _PlatformTrust()


def trustRootFromCertificates(certificates: Iterable[Certificate]) -> Any:
    """Return a trust root trusting only ``certificates``."""
    return _CertificateTrust(list(certificates))


def _trustOf(trustRoot: Any) -> Any:
    """Accept a trust root, a Certificate or a list of them."""
    if trustRoot is None:
        return _PlatformTrust()
    if isinstance(trustRoot, Certificate):
        return _CertificateTrust([trustRoot])
    if isinstance(trustRoot, (list, tuple)):
        return _CertificateTrust(trustRoot)
    return trustRoot


def _loadChain(context: ssl.SSLContext, key: Any, cert: Any, chain: Sequence[Any] = ()) -> None:
    """Load an in-memory key and certificate (chain) into ``context`` via a private temp file.

    The standard library only loads certificates from files; the file is readable by this
    user only and removed at once.
    """
    keyPEM = key.dump() if isinstance(key, KeyPair) else _pemBytes(key, private=True)
    certPEM = Certificate.dumpPEM(cert) if isinstance(cert, Certificate) else _pemBytes(cert)
    extra = b"".join(Certificate.dumpPEM(c) for c in chain)
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(keyPEM + certPEM + extra)
        context.load_cert_chain(path)
    finally:
        os.remove(path)


def _pemBytes(obj: Any, private: bool = False) -> bytes:
    if isinstance(obj, (bytes, str)):
        return obj.encode("ascii") if isinstance(obj, str) else obj
    if private:
        return KeyPair(obj).dump()
    return Certificate(obj).dumpPEM()


def _alpn(context: ssl.SSLContext, protocols: Sequence[bytes | str] | None) -> None:
    if protocols:
        context.set_alpn_protocols(
            [p.decode("ascii") if isinstance(p, bytes) else p for p in protocols]
        )


class CertificateOptions:
    """TLS options for a server (with ``privateKey`` and ``certificate``) or a client.

    ``verify`` with ``caCerts`` (or ``trustRoot``) makes a server require client certificates
    signed by those authorities, or a client verify the server's chain (without checking
    its name: use optionsForClientTLS for that).  ``acceptableProtocols`` lists ALPN
    protocols in order of preference (RFC 7301).  ``method`` (a pyOpenSSL method constant in
    Twisted, deprecated there) is accepted for compatibility and ignored: the version range
    is TLS 1.2 (or ``raiseMinimumTo``) up to the newest the platform has.
    """

    def __init__(
        self,
        privateKey: Any = None,
        certificate: Any = None,
        method: Any = None,
        verify: bool = False,
        caCerts: Sequence[Certificate] | None = None,
        requireCertificate: bool = True,
        extraCertChain: Sequence[Certificate] | None = None,
        trustRoot: Any = None,
        acceptableProtocols: Sequence[bytes | str] | None = None,
        raiseMinimumTo: ssl.TLSVersion | None = None,
    ) -> None:
        if (privateKey is None) != (certificate is None):
            raise ValueError("Specify neither or both of privateKey and certificate")
        if caCerts and trustRoot is not None:
            raise TypeError("caCerts and trustRoot may not both be specified")
        self.privateKey = privateKey
        self.certificate = certificate
        self.method = method
        self.verify = bool(verify or trustRoot is not None)
        self.caCerts = list(caCerts) if caCerts else None
        self.requireCertificate = requireCertificate
        self.extraCertChain = list(extraCertChain or [])
        self.trustRoot = trustRoot
        self.acceptableProtocols = acceptableProtocols
        self.raiseMinimumTo = raiseMinimumTo
        self._context: ssl.SSLContext | None = None

    def getContext(self) -> ssl.SSLContext:
        """Return the (cached) ssl.SSLContext these options describe."""
        if self._context is None:
            self._context = self._makeContext()
        return self._context

    def _makeContext(self) -> ssl.SSLContext:
        server = self.privateKey is not None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = self.raiseMinimumTo or ssl.TLSVersion.TLSv1_2
        if server:
            _loadChain(ctx, self.privateKey, self.certificate, self.extraCertChain)
        else:
            ctx.check_hostname = False
        if self.verify:
            trust = _CertificateTrust(self.caCerts) if self.caCerts else _trustOf(self.trustRoot)
            trust._addTo(ctx)
            ctx.verify_mode = ssl.CERT_REQUIRED if self.requireCertificate else ssl.CERT_OPTIONAL
        else:
            ctx.verify_mode = ssl.CERT_NONE
        _alpn(ctx, self.acceptableProtocols)
        return ctx


class ClientTLSOptions:
    """A client context that verifies the server's chain and name (``_hostname``)."""

    def __init__(self, hostname: str, context: ssl.SSLContext) -> None:
        self._hostname = hostname
        self._context = context

    def getContext(self) -> ssl.SSLContext:
        """Return the client SSLContext."""
        return self._context


def optionsForClientTLS(
    hostname: str | bytes,
    trustRoot: Any = None,
    clientCertificate: PrivateCertificate | None = None,
    acceptableProtocols: Sequence[bytes | str] | None = None,
    raiseMinimumTo: ssl.TLSVersion | None = None,
) -> ClientTLSOptions:
    """Return client options that verify the server is ``hostname`` (RFC 6125).

    ``trustRoot`` defaults to the platform's trust store; pass a Certificate (or
    trustRootFromCertificates) to trust a private CA or a self-signed server.
    """
    if isinstance(hostname, bytes):
        raise TypeError("optionsForClientTLS requires text for host names, not bytes")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = raiseMinimumTo or ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    _trustOf(trustRoot)._addTo(ctx)
    if clientCertificate is not None:
        _loadChain(ctx, clientCertificate.getPrivateKey(), clientCertificate)
    _alpn(ctx, acceptableProtocols)
    return ClientTLSOptions(hostname, ctx)


class DefaultOpenSSLContextFactory:
    """A server context from a PEM private key file and a PEM certificate (chain) file."""

    def __init__(
        self,
        privateKeyFileName: str,
        certificateFileName: str,
        sslmethod: Any = None,
    ) -> None:
        self.privateKeyFileName = privateKeyFileName
        self.certificateFileName = certificateFileName
        self.sslmethod = sslmethod
        self._context: ssl.SSLContext | None = None
        self.cacheContext()

    def cacheContext(self) -> None:
        """Build the context now so a bad key or certificate file fails at start-up."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.certificateFileName, self.privateKeyFileName)
        self._context = ctx

    def getContext(self) -> ssl.SSLContext:
        """Return the server SSLContext."""
        assert self._context is not None
        return self._context


class ClientContextFactory:
    """A client context that does NOT verify the server (Twisted's ClientContextFactory).

    Only for talking to test servers; use optionsForClientTLS for anything else.
    """

    def getContext(self) -> ssl.SSLContext:
        """Return an unverifying client SSLContext."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
