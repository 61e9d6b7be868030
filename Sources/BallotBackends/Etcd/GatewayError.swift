/// Why an exchange with an etcd endpoint's JSON gateway failed. Every case names the endpoint; none
/// carries a credential.
public enum GatewayError: Error, Hashable, Sendable, CustomStringConvertible {
    /// TCP (or TLS) could not be set up.
    case connectFailed(endpoint: String, String)
    /// The connection ended before the answer was complete.
    case closed(endpoint: String)
    /// No (complete) answer within the request's time limit.
    case timedOut(endpoint: String, path: String)
    /// An answer, or one message of a stream, longer than ``GatewayLimits``.
    case oversized(endpoint: String, path: String, limit: Int)
    /// The answer is not what the gateway's API defines: not JSON, a field missing or of the wrong
    /// kind, a number that is not one.
    case malformed(endpoint: String, path: String, String)
    /// etcd answered with an error: `code` is its gRPC status code (5 not found, 14 unavailable,
    /// 16 unauthenticated…), `message` its text, e.g. `etcdserver: requested lease not found`.
    case service(endpoint: String, path: String, status: Int, code: Int?, message: String)
    /// TLS failed: an untrusted or mismatched certificate, or an unreadable TLS file.
    case tls(endpoint: String, String)
    /// There is no endpoint to ask (the gateway was shut down).
    case shutDown

    /// The label of `ballot_coordination_failures_total` this failure counts under.
    public var failure: CoordinationFailure {
        switch self {
        case .connectFailed: .connectFailed
        case .closed, .shutDown: .closed
        case .timedOut: .timedOut
        case .oversized: .oversized
        case .malformed: .malformed
        case .service(_, _, _, let code, let message):
            // 16 unauthenticated (token), 7 permission denied; a refused login is 3 with this text.
            code == 16 || code == 7 || message.contains("authentication failed") || message.contains("user name is empty")
                ? .unauthenticated : .serviceError
        case .tls: .unauthenticated
        }
    }

    /// etcd's word that the request cannot succeed on this member now (no leader, timed out inside
    /// etcd, shutting down): try the next endpoint.
    public var isUnavailable: Bool {
        switch self {
        case .connectFailed, .closed, .timedOut, .tls: true
        case .service(_, _, let status, let code, _): code == 14 || code == 4 || status == 503
        case .oversized, .malformed, .shutDown: false
        }
    }

    /// The auth token was refused (expired or revoked): authenticate again and retry once.
    public var isInvalidToken: Bool {
        if case .service(_, _, _, 16, let message) = self { return message.contains("token") }
        return false
    }

    public var description: String {
        switch self {
        case .connectFailed(let endpoint, let reason): "cannot connect to etcd at \(endpoint): \(reason)"
        case .closed(let endpoint): "etcd at \(endpoint) closed the connection before answering"
        case .timedOut(let endpoint, let path): "etcd at \(endpoint) did not answer \(path) in time"
        case .oversized(let endpoint, let path, let limit): "etcd at \(endpoint) answered \(path) with more than \(limit) bytes"
        case .malformed(let endpoint, let path, let problem): "etcd at \(endpoint) answered \(path) with something unexpected: \(problem)"
        case .service(let endpoint, let path, let status, let code, let message):
            "etcd at \(endpoint) refused \(path): \(message) (HTTP \(status)\(code.map { ", code \($0)" } ?? ""))"
        case .tls(let endpoint, let problem): "TLS with etcd at \(endpoint) failed: \(problem)"
        case .shutDown: "the etcd gateway client is shut down"
        }
    }
}

/// Bounds on what the gateway client reads, so a broken or hostile endpoint cannot make it allocate
/// without limit.
public struct GatewayLimits: Hashable, Sendable {
    /// The largest answer to a request, or message of a stream (a watch event batch).
    public var maxMessageBytes = 4 << 20

    public init() {}
}
