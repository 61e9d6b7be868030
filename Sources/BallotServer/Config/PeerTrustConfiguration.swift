/// How a node authenticates its peers, as configured: the mutual-TLS files, the cluster secret
/// files, and the limits on connections that have not authenticated yet. The files themselves are
/// read when the node starts and again on SIGHUP (``PeerTrustMaterial``).
public struct PeerTrustConfiguration: Hashable, Sendable {
    /// The three files of mutual TLS on the peer protocol.
    public struct TLSFiles: Hashable, Sendable {
        /// This node's certificate (PEM), with the URI SAN `ballot://<cluster>/<id>`; intermediates may follow it.
        public var certificate: String
        /// Its private key (PEM).
        public var key: String
        /// The CA certificate(s) (PEM) every peer's certificate must chain to; during a CA rotation, both CAs.
        public var ca: String

        public init(certificate: String, key: String, ca: String) {
            self.certificate = certificate
            self.key = key
            self.ca = ca
        }
    }

    public var tls: TLSFiles?
    /// The secret this node proves with (auth method 1, docs/protocol.md §12).
    public var clusterSecretFile: String?
    /// Further secrets whose proofs are accepted, for rotating the secret without refusals (§12.6).
    public var clusterSecretAlsoAccept: [String]
    /// Lets a node listen off loopback with neither TLS nor a secret.
    public var insecurePeers: Bool
    /// A connection that has not completed its handshake (TLS, Ballot handshake, proof) by then is closed.
    public var handshakeTimeout: Duration
    /// At most this many accepted connections may be handshaking at once; more are closed at once.
    public var maxPendingHandshakes: Int

    public static let defaultHandshakeTimeout = Duration.seconds(5)
    public static let handshakeTimeoutRange = Duration.milliseconds(100)...Duration.seconds(60)
    /// Far more than the members reconnecting at once; low enough that a flood holds little.
    public static let defaultMaxPendingHandshakes = 64
    public static let maxPendingHandshakesRange = 1...10_000

    public init(
        tls: TLSFiles? = nil, clusterSecretFile: String? = nil, clusterSecretAlsoAccept: [String] = [],
        insecurePeers: Bool = false, handshakeTimeout: Duration = Self.defaultHandshakeTimeout,
        maxPendingHandshakes: Int = Self.defaultMaxPendingHandshakes
    ) {
        self.tls = tls
        self.clusterSecretFile = clusterSecretFile
        self.clusterSecretAlsoAccept = clusterSecretAlsoAccept
        self.insecurePeers = insecurePeers
        self.handshakeTimeout = handshakeTimeout
        self.maxPendingHandshakes = maxPendingHandshakes
    }

    /// Whether peers must prove who they are: by certificate, by the cluster secret, or both.
    public var authenticatesPeers: Bool { tls != nil || clusterSecretFile != nil }

    /// Validates merged settings: all three TLS files or none, accepted secrets only beside a secret,
    /// limits in range.
    init(_ settings: NodeSettings) throws(ConfigurationError) {
        let tlsKeys: [(ConfigurationKey, String?)] = [
            (.peerTLSCertificate, settings.peerTLSCertificate), (.peerTLSKey, settings.peerTLSKey),
            (.peerTLSCA, settings.peerTLSCA),
        ]
        let given = tlsKeys.filter { $0.1 != nil }
        var tls: TLSFiles?
        if let certificate = settings.peerTLSCertificate, let key = settings.peerTLSKey, let ca = settings.peerTLSCA {
            tls = TLSFiles(certificate: certificate, key: key, ca: ca)
        } else if !given.isEmpty {
            throw .incompletePeerTLS(missing: tlsKeys.filter { $0.1 == nil }.map(\.0))
        }
        let alsoAccept = settings.clusterSecretAlsoAccept ?? []
        if !alsoAccept.isEmpty && settings.clusterSecretFile == nil { throw .acceptedSecretsWithoutSecret }
        let timeout = settings.peerHandshakeTimeout ?? Self.defaultHandshakeTimeout
        guard Self.handshakeTimeoutRange.contains(timeout) else { throw .peerHandshakeTimeoutOutOfRange(timeout) }
        let pending = settings.peerMaxPendingHandshakes ?? Self.defaultMaxPendingHandshakes
        guard Self.maxPendingHandshakesRange.contains(pending) else { throw .maxPendingHandshakesOutOfRange(pending) }
        self.init(
            tls: tls, clusterSecretFile: settings.clusterSecretFile, clusterSecretAlsoAccept: alsoAccept,
            insecurePeers: settings.insecurePeers ?? false, handshakeTimeout: timeout, maxPendingHandshakes: pending)
    }
}
