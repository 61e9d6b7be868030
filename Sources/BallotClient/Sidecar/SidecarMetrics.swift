import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The Prometheus series of `ballot run --metrics HOST:PORT` (docs/metrics.md, "Sidecar"). Every
/// series exists from the first scrape, at zero.
public final class SidecarMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let childRunning: Gauge
    let childStarts: Counter
    let childMargin: ValueHistogram
    let leaseHeld: Gauge
    let streamConnected: Gauge
    let disconnects: [String: Counter]
    let eventsSkipped: Counter
    let signals: [GroupSignal: Counter]
    let resignations: [Bool: Counter]

    /// Reasons of ``LeadershipSubscription/Disconnect``, as the `reason` label.
    static let disconnectReasons = ["refused", "closed", "idle", "http_status", "bad_stream", "failed"]

    public init() {
        func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        childRunning = registry.makeGauge(descriptor: descriptor(
            "ballot_sidecar_child_running", "1 while CMD runs (from its start until its whole process group is gone), else 0."))
        childStarts = registry.makeCounter(descriptor: descriptor(
            "ballot_sidecar_child_starts_total", "Times CMD was started."))
        childMargin = registry.makeValueHistogram(
            descriptor: descriptor(
                "ballot_sidecar_child_margin_seconds",
                "Lease deadline minus the instant CMD's whole group was gone (CLOCK_MONOTONIC); negative if it outlived the lease."),
            buckets: [-1, -0.1, -0.01, 0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5])
        leaseHeld = registry.makeGauge(descriptor: descriptor(
            "ballot_sidecar_lease_held", "1 while the node's stream last said it holds a lease that has not run out, else 0."))
        streamConnected = registry.makeGauge(descriptor: descriptor(
            "ballot_sidecar_stream_connected", "1 while the node's event stream (GET /holder) is open, else 0."))
        var disconnects: [String: Counter] = [:]
        for reason in Self.disconnectReasons {
            disconnects[reason] = registry.makeCounter(
                descriptor: descriptor("ballot_sidecar_stream_disconnects_total", "Ends of /events streams, by reason."),
                labels: [("reason", reason)])
        }
        self.disconnects = disconnects
        eventsSkipped = registry.makeCounter(descriptor: descriptor(
            "ballot_sidecar_stream_events_skipped_total", "Events of a type this sidecar does not know, skipped."))
        var signals: [GroupSignal: Counter] = [:]
        for (signal, label) in [(GroupSignal.terminate, "SIGTERM"), (.kill, "SIGKILL")] {
            signals[signal] = registry.makeCounter(
                descriptor: descriptor("ballot_sidecar_signals_total", "Signals sent to CMD's process group."),
                labels: [("signal", label)])
        }
        self.signals = signals
        var resignations: [Bool: Counter] = [:]
        for (succeeded, label) in [(true, "ok"), (false, "refused")] {
            resignations[succeeded] = registry.makeCounter(
                descriptor: descriptor("ballot_sidecar_resignations_total", "POST /resign requests after CMD exited, by outcome."),
                labels: [("outcome", label)])
        }
        self.resignations = resignations
    }

    func disconnected(_ disconnect: LeadershipSubscription.Disconnect) {
        streamConnected.set(to: 0)
        let reason = switch disconnect {
        case .refused: "refused"
        case .closed: "closed"
        case .idle: "idle"
        case .httpStatus: "http_status"
        case .badStream: "bad_stream"
        case .failed: "failed"
        }
        disconnects[reason]?.increment()
    }

    /// The exposition text.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// A listening `/metrics` endpoint.
    public struct Listener: Sendable {
        let channel: any Channel
        /// The port it listens on (useful when asked for port 0).
        public var port: Int { channel.localAddress?.port ?? 0 }
        public func close() async { try? await channel.close() }
    }

    /// Serves `GET /metrics` on `host:port` until the listener is closed.
    public func serve(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws -> Listener
    {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(metrics: self))
                }
            }
            .bind(host: host, port: port).get()
        return Listener(channel: channel)
    }
}

/// Answers `GET /metrics` with the exposition and anything else with 404.
private final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: SidecarMetrics
    init(metrics: SidecarMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let path = request.uri.split(separator: "?").first.map(String.init) ?? request.uri
        let found = request.method == .GET && path == "/metrics"
        let body = found ? metrics.exposition() : Array("not found: this sidecar serves GET /metrics only\n".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: request.version, status: found ? .ok : .notFound, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
