import ArgumentParser
import BallotClient
import BallotCore
import BallotHarness
import BallotServer
import Foundation
import Glibc
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// `ballot bench http`: what the HTTP surface costs and how it holds up (figures, never pass/fail).
struct HTTPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Time /metrics scrapes over HTTP/1.1 and HTTP/2, plaintext and TLS; then /healthz with thousands of idle connections open, and how soon they are closed.",
        discussion: """
            Scrapes are timed on one kept-alive connection, as Prometheus scrapes (the first, which connects \
            and shakes hands, is left out), by this command's own NIO client (HTTP/1.1, or HTTP/2 by prior \
            knowledge or ALPN). Idle connections are opened from this process, each \
            served one /healthz and then left idle on keep-alive; /healthz is timed on fresh connections \
            meanwhile. Loopback only; certificates are throwaway ones made with openssl.
            """
    )

    @Option(help: "Run the node with this executable, e.g. .build/deploy/release/ballotd, instead of `ballot serve`.")
    var nodeBinary: String?

    @Option(help: "Scrapes to time per protocol.")
    var scrapes: Int = 200

    @Option(help: "Idle connections to hold open.")
    var idleConnections: Int = 5000

    @Option(help: "The node's --http-idle-timeout during the idle test.")
    var idleTimeout: String = "10s"

    @Option(help: "/healthz requests to time while the idle connections are open.")
    var healthChecks: Int = 500

    @Option(help: "First port to look for free ones from.")
    var basePort: Int = 28001

    func validate() throws {
        guard (10...100_000).contains(scrapes) else { throw ValidationError("--scrapes must be 10…100000") }
        guard (0...60_000).contains(idleConnections) else { throw ValidationError("--idle-connections must be 0…60000") }
        guard (10...100_000).contains(healthChecks) else { throw ValidationError("--health-checks must be 10…100000") }
        _ = try DurationParser.parse(idleTimeout)
    }

    func run() async throws {
        raiseOwnOpenFileLimit()
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let idle = try DurationParser.parse(idleTimeout)
        printLine("ballot http: one node (\(nodeBinary ?? "\(ballotExecutable()) serve")), loopback")
        printLine("")
        printLine("/metrics scrape, client-side, on one kept-alive connection (\(scrapes) scrapes each; ms):")
        printLine("protocol              median     p90     p99     max   size (bytes)")
        for tls in [false, true] {
            let local = makeNode(tls: tls, certificates: certificates, idleTimeout: idle, name: tls ? "tls" : "plain")
            try await local.whileRunning {
                guard await local.waitForLeader(timeout: .seconds(30)) != nil else { throw BenchmarkError("the node elected no leader") }
                let port = local.nodes[0].httpPort
                for http2 in [false, true] {
                    let context = try tls ? clientContext(ca: certificates.ca, http2: http2) : nil
                    let (times, size) = try await ScrapeClient.time(count: scrapes, port: port, path: "/metrics", http2: http2, tls: context)
                    let summary = Summary(times)
                    let label = (http2 ? "HTTP/2" : "HTTP/1.1") + (tls ? " + TLS" : (http2 ? " (h2c)" : ""))
                    printLine(label.padding(toLength: 20, withPad: " ", startingAt: 0)
                              + String(format: " %7.3f %7.3f %7.3f %7.3f   %d", summary.median, summary.quantile(0.9),
                                       summary.quantile(0.99), summary.max, size))
                }
                if !tls && idleConnections > 0 {
                    printLine("")
                    try await idleScenario(local: local, port: port, idleTimeout: idle)
                }
            }
        }
    }

    /// A one-node cluster with room for the idle connections, plaintext or TLS.
    func makeNode(tls: Bool, certificates: ThrowawayCertificates, idleTimeout: Duration, name: String) -> LocalCluster {
        var settings = LocalCluster.Settings()
        settings.nodes = 1
        settings.nodeBinary = nodeBinary
        settings.printEvents = false
        settings.electionTimeout = "500ms"
        settings.heartbeatInterval = "50ms"
        settings.cluster = "bench-http"
        settings.peerBasePort = LoopbackPorts.consecutiveFree(2, from: basePort + (tls ? 10 : 0))
        settings.httpBasePort = settings.peerBasePort + 1
        settings.extraArguments = [
            "--http-max-connections", "\(idleConnections + 1000)", "--http-idle-timeout", DurationParser.format(idleTimeout),
        ]
        if tls {
            settings.extraArguments += ["--http-tls-cert", certificates.serverCertificate, "--http-tls-key", certificates.serverKey]
            settings.httpTLS = try? HTTPClientTLS(caFile: certificates.ca)
        }
        let directory = NSTemporaryDirectory() + "ballot-bench-http-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        return LocalCluster(settings: settings, binary: ballotExecutable(), dataDirectory: directory)
    }

    /// A client TLS context trusting `ca`, offering h2 or http/1.1 by ALPN.
    func clientContext(ca: String, http2: Bool) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        configuration.applicationProtocols = [http2 ? "h2" : "http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }

    /// Holds `idleConnections` idle keep-alive connections open, times /healthz meanwhile, and
    /// measures how long after its last answer each idle connection was closed.
    func idleScenario(local: LocalCluster, port: Int, idleTimeout: Duration) async throws {
        let tracker = IdleConnections(count: idleConnections)
        let opening = ContinuousClock.now
        var channels: [any Channel] = []
        for index in 0..<idleConnections {
            do {
                channels.append(try await tracker.open(index, port: port))
            } catch {
                printLine("could only open \(index) idle connections: \(error)")
                break
            }
        }
        let answeredDeadline = ContinuousClock.now + .seconds(30)
        while tracker.answered < channels.count, ContinuousClock.now < answeredDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let opened = ContinuousClock.now - opening
        let target = try local.httpTarget(of: local.nodes[0].id)
        var health: [Double] = []
        var failures = 0
        for _ in 0..<healthChecks {
            let start = ContinuousClock.now
            do {
                let response = try await HTTPClient.request(.GET, target, path: "/healthz", timeout: .seconds(5))
                if response.status == 200 { health.append((ContinuousClock.now - start).milliseconds) } else { failures += 1 }
            } catch {
                failures += 1
            }
        }
        let metrics = (try? await HTTPClient.request(.GET, target, path: "/metrics").status) ?? 0
        printLine("\(channels.count) idle connections (each served one /healthz, then left idle on keep-alive), opened in "
                  + String(format: "%.1f s; ", opened.milliseconds / 1000) + "\(tracker.answered) answered")
        let summary = Summary(health)
        printLine(String(format: "/healthz on fresh connections meanwhile (%d): median %.2f ms, p99 %.2f ms, max %.2f ms; %d failed; /metrics answered %d",
                         healthChecks, summary.median, summary.quantile(0.99), summary.max, failures, metrics))
        let closeDeadline = ContinuousClock.now + idleTimeout + .seconds(15)
        while tracker.closed < channels.count, ContinuousClock.now < closeDeadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let delays = tracker.closeDelays().map { $0.milliseconds / 1000 }
        let limit = idleTimeout.milliseconds / 1000 + 1
        let inTime = delays.filter { $0 <= limit }.count
        let closes = Summary(delays.isEmpty ? [0] : delays)
        printLine(String(format: "closed by the node, after their last answer (idle timeout %.1f s): %d of %d; min %.2f s, median %.2f s, max %.2f s; %d within the idle timeout + 1 s",
                         idleTimeout.milliseconds / 1000, delays.count, channels.count, closes.min, closes.median, closes.max, inTime))
        for channel in channels { channel.close(promise: nil) }
    }

    /// Raises this process's open-file limit to its hard limit, for thousands of connections.
    func raiseOwnOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// The idle connections of the benchmark: when each got its answer and when the node closed it.
final class IdleConnections: Sendable {
    private let times: Mutex<[(answered: ContinuousClock.Instant?, closed: ContinuousClock.Instant?)]>

    init(count: Int) {
        times = Mutex(Array(repeating: (nil, nil), count: count))
    }

    var answered: Int { times.withLock { $0.filter { $0.answered != nil }.count } }
    var closed: Int { times.withLock { $0.filter { $0.closed != nil }.count } }

    /// From each connection's answer to its close, for those closed.
    func closeDelays() -> [Duration] {
        times.withLock { $0.compactMap { entry in entry.closed.flatMap { closed in entry.answered.map { closed - $0 } } } }
    }

    /// Connects, sends one keep-alive `GET /healthz`, and records the answer and the close.
    func open(_ index: Int, port: Int) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Recorder(index: index, connections: self))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        channel.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), promise: nil)
        return channel
    }

    fileprivate func record(_ index: Int, answered: Bool) {
        let now = ContinuousClock.now
        times.withLock { times in
            if answered {
                if times[index].answered == nil { times[index].answered = now }
            } else {
                times[index].closed = now
            }
        }
    }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let index: Int
        let connections: IdleConnections

        init(index: Int, connections: IdleConnections) {
            self.index = index
            self.connections = connections
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            connections.record(index, answered: true)
        }

        func channelInactive(context: ChannelHandlerContext) {
            connections.record(index, answered: false)
        }
    }
}
