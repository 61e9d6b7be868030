/// What one HTTP listener allows each client, the same for plaintext and TLS, HTTP/1.1 and HTTP/2.
///
/// The rule for time (`docs/security.md`): a connection may wait for its next request for
/// ``idleTimeout``; a request, once its first byte arrived (or, for a new connection, from the
/// moment it was accepted, TLS handshake included), must arrive whole within ``requestTimeout``;
/// while a request is being answered no timer runs — a blocking query may wait and an event stream
/// may stay open as long as its route decides — unless the client stops reading: a connection that
/// cannot be written to for ``idleTimeout`` is closed.
public struct HTTPLimits: Sendable, Hashable {
    /// Between requests on a keep-alive connection (HTTP/1.1), or with no open stream (HTTP/2).
    public var idleTimeout: Duration
    /// From a request's first byte to its last (head and body); for a new connection, from accept
    /// to its first request's last byte.
    public var requestTimeout: Duration
    /// The largest request head: request line and headers (HTTP/1.1, answered 431), or header list
    /// (HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE`).
    public var maxHeadSize: Int
    /// Open connections per listener; above it, the longest-idle connection is closed to make room,
    /// and when none is idle the new one is answered 503 and closed.
    public var maxConnections: Int
    /// Concurrent streams per HTTP/2 connection (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    public var maxStreams: Int
    /// The largest request body; no route needs more than a small JSON document.
    public var maxBodySize: Int

    public static let defaultIdleTimeout = Duration.seconds(60)
    public static let defaultRequestTimeout = Duration.seconds(10)
    public static let defaultMaxHeadSize = 16 * 1024
    public static let defaultMaxConnections = 1024
    public static let defaultMaxStreams = 100
    public static let defaultMaxBodySize = 64 * 1024

    /// Below 1 KiB ordinary clients' heads do not fit; above 1 MiB a head is an attack.
    public static let maxHeadSizeRange = 1024...(1 << 20)
    public static let maxConnectionsRange = 1...1_000_000
    public static let maxStreamsRange = 1...10_000

    public init(
        idleTimeout: Duration = Self.defaultIdleTimeout, requestTimeout: Duration = Self.defaultRequestTimeout,
        maxHeadSize: Int = Self.defaultMaxHeadSize, maxConnections: Int = Self.defaultMaxConnections,
        maxStreams: Int = Self.defaultMaxStreams, maxBodySize: Int = Self.defaultMaxBodySize
    ) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maxHeadSize = maxHeadSize
        self.maxConnections = maxConnections
        self.maxStreams = maxStreams
        self.maxBodySize = maxBodySize
    }
}
