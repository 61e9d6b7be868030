import Prometheus
import Synchronization

/// Why the endpoint closed a connection (or an HTTP/2 stream) itself; the `reason` label of
/// `ballot_http_connections_closed_total`.
enum HTTPCloseReason: String, CaseIterable, Sendable {
    /// No request for the idle timeout.
    case idleTimeout = "idle_timeout"
    /// A request (or a new connection's first one) did not arrive whole within the request timeout.
    case requestTimeout = "request_timeout"
    /// A request head larger than the cap (answered 431).
    case headTooLarge = "head_too_large"
    /// The client stopped reading for the idle timeout.
    case stalled
    /// Closed while idle to make room for a new connection at the cap.
    case evicted
    /// Refused at the cap with 503, nothing being idle.
    case overLimit = "over_limit"
    /// Malformed HTTP (answered 400) or an HTTP/2 protocol error.
    case protocolError = "protocol_error"
}

/// The endpoint's series: requests by route and status, their durations, open connections, and
/// the connections the endpoint closed itself. Routes are the router's fixed names, never paths.
final class HTTPMetrics: Sendable {
    let connections: Gauge
    private let accepted: LabeledSeries<HTTPConnectionInfo.Version, Counter>
    private let closed: LabeledSeries<HTTPCloseReason, Counter>
    private let durations: LabeledSeries<String, DurationHistogram>
    private let registry: PrometheusCollectorRegistry
    /// `ballot_http_requests_total` by "route code"; created at a route's first answer with that
    /// code (the codes a route can give are few and fixed by the server).
    private let requests: Mutex<[String: Counter]>
    private let routeNames: Set<String>

    init(registry: PrometheusCollectorRegistry, routeNames: [String]) {
        self.registry = registry
        self.routeNames = Set(routeNames)
        connections = registry.makeGauge(descriptor: Self.descriptor(
            "ballot_http_connections", "HTTP connections open now, over every listener of this node."))
        accepted = LabeledSeries([HTTPConnectionInfo.Version.http1, .http2]) { version in
            registry.makeCounter(
                descriptor: Self.descriptor(
                    "ballot_http_connections_accepted_total",
                    "HTTP connections that chose a protocol (by ALPN over TLS, by prior knowledge in plaintext)."),
                labels: [("protocol", version == .http1 ? "http1" : "http2")])
        }
        closed = LabeledSeries(HTTPCloseReason.allCases) { reason in
            registry.makeCounter(
                descriptor: Self.descriptor(
                    "ballot_http_connections_closed_total",
                    "HTTP connections (or HTTP/2 streams) the endpoint closed itself, by reason."),
                labels: [("reason", reason.rawValue)])
        }
        durations = LabeledSeries(routeNames) { route in
            registry.makeDurationHistogram(
                descriptor: Self.descriptor(
                    "ballot_http_request_duration_seconds",
                    "From a request's head to the end of its answer (to the answer's head for streams), by route."),
                labels: [("route", route)], buckets: Self.buckets)
        }
        requests = Mutex([:])
        // The usual answer of every route exists from the first scrape, so `rate()` has a start.
        for route in routeNames {
            _ = requestCounter(route: route, code: route == HTTPRouter.unmatchedRouteName ? 404 : 200)
        }
    }

    /// One answered request. `route` must be one of the router's names.
    func answered(route: String, code: UInt, after duration: Duration) {
        let name = routeNames.contains(route) ? route : HTTPRouter.unmatchedRouteName
        durations[name].record(max(duration, .zero))
        requestCounter(route: name, code: code).increment()
    }

    private func requestCounter(route: String, code: UInt) -> Counter {
        let key = "\(route) \(code)"
        return requests.withLock { table in
            if let counter = table[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.descriptor("ballot_http_requests_total", "HTTP requests answered, by route and status code."),
                labels: [("route", route), ("code", String(code))])
            table[key] = counter
            return counter
        }
    }

    func acceptedConnection(_ version: HTTPConnectionInfo.Version) {
        accepted[version].increment()
    }

    func closedConnection(_ reason: HTTPCloseReason) {
        closed[reason].increment()
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// 100 µs (a loopback `/healthz`) to 60 s (a blocking query that waited its full time).
    static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60),
    ]
}
