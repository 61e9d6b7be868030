import BallotCore
import BallotRuntime
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BallotServer

/// `/events` as the hub serves it over real HTTP/1.1 connections on 127.0.0.1 (issue 15): the
/// connection is handed to the hub after its head and framed by hand; a client that does not read
/// gets every loss or is disconnected; a closed stream leaves the hub and the connection count;
/// other requests are answered while hundreds of streams get lease events.
@Suite struct AdoptedStreamTests: LeadershipScript {
    let start = MonotonicInstant(nanoseconds: 9_000_000_000)

    /// A test endpoint that also serves the hub's stream at `/hub`.
    func withHub<T>(_ hub: LeadershipEventHub, _ body: (TestEndpoint) async throws -> T) async throws -> T {
        var limits = HTTPLimits()
        limits.maxConnections = 2_000
        return try await TestEndpoint.with(limits: limits, routes: { router in
            router.add("hub", .GET, path: "/hub") { _ in
                HTTPResponse(status: .ok, headers: ["Content-Type": "text/event-stream"], body: .adopted { sink in hub.adopt(sink) })
            }
        }, body)
    }

    @Test func anHTTP1StreamIsFramedByHandAndLeavesTheHubWhenTheClientCloses() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        try await withHub(hub) { endpoint in
            let client = try await RawHTTPClient.open(port: endpoint.port, path: "/hub")
            #expect(await client.wait { $0.events.count >= 1 })
            let first = client.response
            #expect(first.head.lowercased().contains("transfer-encoding: chunked"), "\(first.head)")
            #expect(first.events.first?.name == "state")
            #expect(await waitUntil { hub.subscriberCount == 1 })
            #expect(endpoint.sample("ballot_http_connections") == 1)

            elect(view, term: 4, at: 10)
            #expect(await client.wait { $0.events.count >= 3 })
            #expect(client.response.events.dropFirst().map(\.name) == ["elected", "lease"])
            #expect(client.response.malformed == false, "every chunk is framed correctly")

            try await client.channel.close()
            #expect(await waitUntil { hub.subscriberCount == 0 }, "a closed stream leaves the hub")
            #expect(await waitUntil { endpoint.sample("ballot_http_connections") == 0 }, "and the connection count")
            #expect(endpoint.sample("ballot_http_requests_total{route=\"hub\",code=\"200\"}") == 1)
        }
    }

    /// A client that reads nothing while thousands of changes happen: what it finally reads has
    /// every change of the index in order (no `elected`, `lost`, lease begin or end missing) up to
    /// where its stream ended; if it did not get them all, the server closed its stream.
    @Test func aSubscriberThatDoesNotReadGetsEveryLossOrIsClosed() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        try await withHub(hub) { endpoint in
            let client = try await RawHTTPClient.open(port: endpoint.port, path: "/hub", reading: false)
            #expect(await waitUntil { hub.subscriberCount == 1 })
            // 4,000 cycles of 6 events: 6 MB, more than the socket buffers (4 MB at most here) and
            // NIO's 64 KiB high-water mark hold. Paced, so that tests running beside it get the CPU.
            let cycles = 4_000
            var offset = 10
            for cycle in 0..<cycles {
                let term = Term(UInt64(cycle + 1))
                elect(view, term: term, at: offset)
                extend(view, term: term, at: offset + 300)
                extend(view, term: term, at: offset + 600)
                stepDown(view, term: term, at: offset + 700)
                offset += 1_000
                if cycle % 20 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            let last = view.current.index
            client.startReading()
            // The last change is a lease end with id `last`: cheap to spot at the end of the bytes.
            let marker = Array("id: \(last)\nevent: lease".utf8)
            let ended = await waitUntil(rounds: 6_000) {
                let (tail, _, closed) = client.tail(1_000)
                return closed || tail.firstRange(of: marker) != nil
            }
            let received = client.tail(0)
            let bytes = received.count
            let streams = hub.subscriberCount
            #expect(ended, "in 30 s neither change \(last) nor the server's close arrived: \(bytes) bytes, closed \(received.closed), \(streams) stream(s) in the hub")
            let response = await client.parsedResponse()
            #expect(!response.malformed, "\(bytes) bytes, \(response.events.count) events")
            let state = try #require(response.events.first)
            #expect(state.name == "state")
            // A lease extension keeps the index; every other event moves it by one.
            var changes: [UInt64] = []
            var previous = state.index
            for event in response.events.dropFirst() where event.index != previous {
                changes.append(event.index)
                previous = event.index
            }
            #expect(changes.count > 0)
            let expected = Array((state.index + 1)..<(state.index + 1 + UInt64(changes.count)))
            var gap = "none"
            if let first = zip(changes, expected).first(where: { $0.0 != $0.1 }) { gap = "\(first.1) missing, \(first.0) next" }
            #expect(changes == expected, "no change of the index is skipped; first gap: \(gap)")
            if changes.last != last {
                #expect(response.closed, "a stream that did not get every change was closed: it ended at \(changes.last ?? state.index) of \(last), \(bytes) bytes")
            }
        }
    }

    @Test func aPlainRequestIsAnsweredWhile500StreamsGetLeaseEvents() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        try await withHub(hub) { endpoint in
            var clients: [RawHTTPClient] = []
            // Paced, so that tests running beside this one (with deadlines of their own) get the CPU.
            for index in 0..<500 {
                clients.append(try await RawHTTPClient.open(port: endpoint.port, path: "/hub"))
                if index % 5 == 4 { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(await waitUntil { hub.subscriberCount == 500 })
            elect(view, term: 1, at: 10)
            // At least 20 extensions, each moving the deadline a third of the lease (all published),
            // however fast the requests below are answered.
            let producer = Task { () -> Int in
                var offset = 10
                for produced in 1...2_000 {
                    offset += 300
                    extend(view, term: 1, at: offset)
                    if Task.isCancelled && produced >= 20 { break }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return offset
            }
            var answered = 0
            for _ in 0..<20 {
                let result = await curl(["-o", "/dev/null", "-w", "%{http_code}", "http://\(endpoint.base)/healthz"])
                if result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "200" { answered += 1 }
            }
            producer.cancel()
            let last = await producer.value
            #expect(answered == 20, "every /healthz is answered while the streams are fed")
            // A stream that is behind may skip superseded extensions, never the newest one.
            let newest = Array("\"until_mono_ns\":\((start + .milliseconds(last + 900)).nanoseconds)".utf8)
            #expect(await waitUntil { clients.allSatisfy { $0.tail(600).tail.contains(newest) } },
                    "every stream got the newest lease extension")
            var fed = 0
            for client in clients where await client.parsedResponse(limit: 4_096).events.count >= 3 { fed += 1 }
            #expect(fed == clients.count, "every stream got its state and lease events")
            for client in clients { try? await client.channel.close() }
            #expect(await waitUntil { hub.subscriberCount == 0 })
        }
    }
}

/// Polls `condition` every 5 ms, at most `rounds` times; whether it held.
func waitUntil(rounds: Int = 2_000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<rounds {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// A bare HTTP/1.1 client on NIO that sends one GET and keeps the raw bytes of the answer, so a
/// test sees the chunk framing itself.
final class RawHTTPClient: Sendable {
    let channel: any Channel
    private let received: Received

    final class Received: Sendable {
        private let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))
        func append(_ buffer: ByteBuffer) { state.withLock { $0.bytes.append(contentsOf: buffer.readableBytesView) } }
        func close() { state.withLock { $0.closed = true } }
        var snapshot: (bytes: [UInt8], closed: Bool) { state.withLock { $0 } }
        /// The last `count` bytes, the number of bytes, and whether the server closed: no copy of the rest.
        func tail(_ count: Int) -> (tail: [UInt8], count: Int, closed: Bool) {
            state.withLock { (Array($0.bytes.suffix(count)), $0.bytes.count, $0.closed) }
        }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Received
        init(_ received: Received) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { received.append(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { received.close() }
    }

    private init(channel: any Channel, received: Received) {
        self.channel = channel
        self.received = received
    }

    /// Connects and sends `GET path`. `reading: false` leaves the answer in the socket until
    /// ``startReading()``. The receive buffer keeps the kernel's default: a tiny one (it was 4 KiB)
    /// makes the advertised window smaller than loopback's 64 KiB segment, and the transfer can then
    /// fall back to one small window per delayed acknowledgement (tens of milliseconds each), which
    /// is the likeliest reason a clean-clone CI run saw neither the last event nor a close in 30 s.
    static func open(port: Int, path: String, reading: Bool = true) async throws -> RawHTTPClient {
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: reading)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"))
        return RawHTTPClient(channel: channel, received: received)
    }

    func startReading() {
        channel.setOption(.autoRead, value: true).whenComplete { _ in }
    }

    var response: RawResponse { RawResponse(received.snapshot) }

    /// The response parsed on a Dispatch thread, so that a large one does not hold one of the
    /// cooperative pool's few threads (tests running beside this one have deadlines); `limit`
    /// parses only the first bytes.
    func parsedResponse(limit: Int = .max) async -> RawResponse {
        let snapshot = received.snapshot
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: RawResponse((Array(snapshot.bytes.prefix(limit)), snapshot.closed)))
            }
        }
    }

    /// The last `count` bytes so far, how many there are, and whether the server closed the connection.
    func tail(_ count: Int) -> (tail: [UInt8], count: Int, closed: Bool) { received.tail(count) }

    /// Polls the response until `condition` holds (at most `rounds` × 5 ms).
    func wait(rounds: Int = 2_000, _ condition: (RawResponse) -> Bool) async -> Bool {
        await waitUntil(rounds: rounds) { condition(response) }
    }
}

/// What a ``RawHTTPClient`` received: the head, the chunked body decoded by hand, its events.
struct RawResponse {
    struct Event {
        var name: String
        var index: UInt64
        var data: String
    }

    var head = ""
    var events: [Event] = []
    var closed: Bool
    /// A chunk was not framed as `<hex size>\r\n<bytes>\r\n`.
    var malformed = false

    init(_ snapshot: (bytes: [UInt8], closed: Bool)) {
        closed = snapshot.closed
        let bytes = snapshot.bytes
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return }
        head = String(decoding: bytes[..<end], as: UTF8.self)
        var body: [UInt8] = []
        var at = end + separator.count
        while let lineEnd = bytes[at...].indices.first(where: { bytes[$0...].starts(with: [0x0D, 0x0A]) }) {
            guard let size = Int(String(decoding: bytes[at..<lineEnd], as: UTF8.self), radix: 16) else {
                malformed = true
                break
            }
            let dataStart = lineEnd + 2
            guard dataStart + size + 2 <= bytes.count else { break }  // Not all here yet.
            body += bytes[dataStart..<(dataStart + size)]
            if !bytes[(dataStart + size)...].starts(with: [0x0D, 0x0A]) {
                malformed = true
                break
            }
            at = dataStart + size + 2
        }
        for block in String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n") where !block.isEmpty {
            var event = Event(name: "", index: 0, data: "")
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { event.index = UInt64(line.dropFirst(4)) ?? 0 }
                if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { event.data = String(line.dropFirst(6)) }
            }
            if !event.name.isEmpty { events.append(event) }
        }
    }
}
