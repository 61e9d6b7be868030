import BallotClient

/// The HTTP surface's settings beyond its address: limits, TLS, who may change the node, and the
/// admin listener. Validated by ``NodeConfiguration``; the files are read when the node starts.
public struct HTTPConfiguration: Hashable, Sendable {
    public var limits: HTTPLimits
    public var tls: HTTPTLSFiles?
    /// The file holding the bearer token; the token itself is read at start-up and kept out of
    /// every configuration value, log line and message.
    public var tokenFile: String?
    /// Reads need a credential too (`--http-auth-reads`).
    public var authorizeReads: Bool
    /// `--admin-http`: a second listener, the only one that serves routes that change the node.
    public var adminAddress: SocketAddressSpec?

    public init(limits: HTTPLimits = HTTPLimits(), tls: HTTPTLSFiles? = nil, tokenFile: String? = nil,
                authorizeReads: Bool = false, adminAddress: SocketAddressSpec? = nil) {
        self.limits = limits
        self.tls = tls
        self.tokenFile = tokenFile
        self.authorizeReads = authorizeReads
        self.adminAddress = adminAddress
    }

    /// Shorter than this and ordinary clients would be cut off; longer and a typo keeps dead
    /// connections for a day.
    public static let idleTimeoutRange = Duration.milliseconds(100)...Duration.seconds(24 * 3600)
    public static let requestTimeoutRange = Duration.milliseconds(100)...Duration.seconds(600)

    /// Validates the HTTP part of merged settings.
    init(_ settings: NodeSettings) throws(ConfigurationError) {
        var limits = HTTPLimits()
        if let value = settings.httpIdleTimeout {
            guard Self.idleTimeoutRange.contains(value) else {
                throw .httpLimitOutOfRange(.httpIdleTimeout, value: DurationParser.format(value), allowed: "100ms…24h")
            }
            limits.idleTimeout = value
        }
        if let value = settings.httpRequestTimeout {
            guard Self.requestTimeoutRange.contains(value) else {
                throw .httpLimitOutOfRange(.httpRequestTimeout, value: DurationParser.format(value), allowed: "100ms…10m")
            }
            limits.requestTimeout = value
        }
        limits.maxHeadSize = try Self.check(settings.httpMaxHeadSize, .httpMaxHeadSize, HTTPLimits.maxHeadSizeRange) ?? limits.maxHeadSize
        limits.maxConnections = try Self.check(settings.httpMaxConnections, .httpMaxConnections, HTTPLimits.maxConnectionsRange)
            ?? limits.maxConnections
        limits.maxStreams = try Self.check(settings.httpMaxStreams, .httpMaxStreams, HTTPLimits.maxStreamsRange) ?? limits.maxStreams

        var tls: HTTPTLSFiles?
        switch (settings.httpTLSCert, settings.httpTLSKey) {
        case (let certificate?, let key?):
            tls = HTTPTLSFiles(certificate: certificate, key: key, clientCA: settings.httpTLSClientCA)
        case (.some, nil): throw .incompleteHTTPTLS(given: .httpTLSCert, missing: .httpTLSKey)
        case (nil, .some): throw .incompleteHTTPTLS(given: .httpTLSKey, missing: .httpTLSCert)
        case (nil, nil):
            if settings.httpTLSClientCA != nil { throw .clientCAWithoutTLS }
        }
        let authorizeReads = settings.httpAuthReads ?? false
        if authorizeReads && settings.httpTokenFile == nil && settings.httpTLSClientCA == nil {
            throw .authorizedReadsWithoutCredential
        }
        self.init(limits: limits, tls: tls, tokenFile: settings.httpTokenFile, authorizeReads: authorizeReads,
                  adminAddress: settings.adminHTTP)
    }

    private static func check(_ value: Int?, _ key: ConfigurationKey, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value else { return nil }
        guard range.contains(value) else {
            throw .httpLimitOutOfRange(key, value: String(value), allowed: "\(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }
}
