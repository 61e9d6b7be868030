import BallotCore
import BallotRuntime
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing

@testable import BallotServer

/// The one encoder of `/events` and blocking queries: order, skipping what the state shows,
/// thinned extensions, overflow, closing — written into real (embedded) channels.
@Suite struct LeadershipEventHubTests: LeadershipScript {
    let start = MonotonicInstant(nanoseconds: 9_000_000_000)

    /// A subscriber on an embedded channel, adopted by `hub` as an HTTP/2 stream would be (the
    /// channel speaks in response parts); its `state` event is read off at once.
    final class Subscriber: Sendable {
        let channel = NIOAsyncTestingChannel()
        /// What was read with the state and not yet returned (a keep-alive, on a loaded machine).
        private let unread = Mutex<[String]>([])

        init(_ hub: LeadershipEventHub) async throws {
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).get()
            let sink = HTTPStreamSink(channel: channel, framing: .parts)
            try await channel.testingEventLoop.executeInContext { hub.adopt(sink) }
            let texts = await received(waitingFor: 1)
            try #require(texts.first?.contains("event: state\n") == true, "a stream begins with its state: \(texts)")
            unread.withLock { $0 = Array(texts.dropFirst()) }
        }

        /// The events written so far (runs the channel's loop first), by their `event:` line.
        func received(waitingFor count: Int) async -> [String] {
            var texts: [String] = unread.withLock { unread in
                defer { unread.removeAll() }
                return unread
            }
            for _ in 0..<500 {
                await channel.testingEventLoop.run()
                while let part = try? await channel.readOutbound(as: HTTPServerResponsePart.self) {
                    if case .body(.byteBuffer(let buffer)) = part { texts.append(String(buffer: buffer)) }
                }
                if texts.count >= count { break }
                try? await Task.sleep(for: .milliseconds(2))
            }
            return texts
        }
    }

    /// Waits (bounded) until `hub` has `count` streams.
    func streams(of hub: LeadershipEventHub, reach count: Int, running subscribers: [Subscriber] = []) async -> Int {
        for _ in 0..<500 where hub.subscriberCount != count {
            for subscriber in subscribers { await subscriber.channel.testingEventLoop.run() }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return hub.subscriberCount
    }

    func name(_ text: String) -> String { String(text.split(separator: "\n")[1].dropFirst(7)) }

    @Test func aStreamGetsWhatFollowsItsStateOnceAndInOrder() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        elect(view, term: 1, at: 10)
        let subscriber = try await Subscriber(hub)
        extend(view, term: 1, at: 60)  // Moves the deadline 50 of 900 ms: not sent.
        extend(view, term: 1, at: 300)  // 290 ms: sent.
        view.absorb([.steppedDown(.lostQuorum), .roleChanged(.follower, term: 1), .leaderChanged(nil)], role: .follower,
                    term: 1, lease: .none, lastContact: nil, at: start + .milliseconds(400))
        let texts = await subscriber.received(waitingFor: 3)
        #expect(texts.map(name) == ["lease", "lost", "lease"])
        #expect(texts[1].hasPrefix("id: 3\n"))
        #expect(texts[2].contains("\"ends\":true,\"is_leader\":false}"))
    }

    @Test func aSubscriberThatStopsReadingIsClosedNotSkipped() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        let subscriber = try await Subscriber(hub)
        _ = await subscriber.received(waitingFor: 0)
        // A full write buffer: the connection is not writable.
        subscriber.channel.isWritable = false
        elect(view, term: 1, at: 10)
        for _ in 0..<200 {
            await subscriber.channel.testingEventLoop.run()
            if !subscriber.channel.isActive { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(!subscriber.channel.isActive, "a subscriber that cannot keep up is disconnected")
        #expect(await streams(of: hub, reach: 0, running: [subscriber]) == 0)
    }

    /// Lease events by when they began (ms after `start`), the rest by name: `lease@300`, `lost`, `lease-end`.
    func label(_ text: String) -> String {
        let kind = name(text)
        guard kind == "lease" else { return kind }
        if text.contains("\"ends\":true") { return "lease-end" }
        guard let range = text.range(of: "\"from_mono_ns\":"),
              let from = UInt64(text[range.upperBound...].prefix { $0.isNumber })
        else { return "lease?" }
        return "lease@\((from - start.nanoseconds) / 1_000_000)"
    }

    /// One delivery round at a time: while a round is in flight (here: one subscriber's loop does
    /// not run), later events wait; the next round then skips the lease extensions that a newer
    /// one of the same term supersedes, and nothing else. While rounds keep up, every published
    /// extension is sent.
    @Test func onlyASubscriberThatIsBehindHasSupersededExtensionsSkippedAndNeverALoss() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        elect(view, term: 1, at: 10)
        let watching = try await Subscriber(hub)
        let stalled = try await Subscriber(hub)
        // Keeping up: each extension is a round of its own, and each is sent.
        extend(view, term: 1, at: 300)
        #expect(await watching.received(waitingFor: 1).map(label) == ["lease@300"])
        #expect(await stalled.received(waitingFor: 1).map(label) == ["lease@300"])
        extend(view, term: 1, at: 600)
        #expect(await watching.received(waitingFor: 1).map(label) == ["lease@600"])
        #expect(await stalled.received(waitingFor: 1).map(label) == ["lease@600"])
        // A round in flight: `watching` got it, `stalled`'s loop has not run, so it is not done.
        extend(view, term: 1, at: 900)
        #expect(await watching.received(waitingFor: 1).map(label) == ["lease@900"])
        extend(view, term: 1, at: 1_200)  // Followed by the loss: kept.
        view.absorb([.steppedDown(.lostQuorum), .roleChanged(.follower, term: 1), .leaderChanged(nil)], role: .follower,
                    term: 1, lease: .none, lastContact: nil, at: start + .milliseconds(1_300))
        elect(view, term: 2, at: 1_400)
        extend(view, term: 2, at: 1_700)  // Superseded by the next: skipped.
        extend(view, term: 2, at: 2_000)
        let after = ["lease@1200", "lost", "lease-end", "elected", "lease@1400", "lease@2000"]
        let stalledGot = await received(stalled, through: "lease@2000")
        let watchingGot = await received(watching, through: "lease@2000")
        // The pump usually takes these events in one round, and then lease@1700 is superseded and
        // skipped; if it wakes between the two extensions (a busy machine), lease@1700 is not yet
        // superseded and is sent. Either way nothing else is skipped and the newest arrives.
        #expect(Self.skipsOnlySuperseded(stalledGot, expected: ["lease@900"] + after, superseded: "lease@1700"), "\(stalledGot)")
        #expect(Self.skipsOnlySuperseded(watchingGot, expected: after, superseded: "lease@1700"), "\(watchingGot)")
    }

    /// What `subscriber` is sent until its last event is `last` (bounded: five waits of up to 1 s).
    func received(_ subscriber: Subscriber, through last: String) async -> [String] {
        var got: [String] = []
        for _ in 0..<5 where got.last != last { got += await subscriber.received(waitingFor: 1).map(label) }
        return got
    }

    /// `got` is `expected`, or `expected` with `superseded` sent right before the extension that
    /// supersedes it.
    static func skipsOnlySuperseded(_ got: [String], expected: [String], superseded: String) -> Bool {
        guard let at = got.firstIndex(of: superseded) else { return got == expected }
        return got.filter { $0 != superseded } == expected && at + 1 < got.count && got[at + 1] == expected.last
    }

    @Test func anIdleStreamGetsAKeepAliveCommentEachInterval() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view, keepAliveInterval: .milliseconds(50))
        defer { hub.close() }
        let subscriber = try await Subscriber(hub)
        let texts = await subscriber.received(waitingFor: 2)
        #expect(texts.count >= 2 && texts.allSatisfy { $0 == ": keep-alive\n\n" }, "\(texts)")
        #expect(LeadershipEventHub.keepAliveInterval == .seconds(15), "the contract's interval")
    }

    @Test func closingTheHubEndsEveryStream() async throws {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        var subscribers: [Subscriber] = []
        for _ in 0..<3 { subscribers.append(try await Subscriber(hub)) }
        #expect(hub.subscriberCount == 3)
        hub.close()
        #expect(hub.subscriberCount == 0)
        for subscriber in subscribers {
            for _ in 0..<500 where subscriber.channel.isActive {
                await subscriber.channel.testingEventLoop.run()
                try? await Task.sleep(for: .milliseconds(2))
            }
            #expect(!subscriber.channel.isActive, "the pump closes every stream")
        }
    }

    @Test func leaseExtensionsAreSentOnceTheDeadlineMovedAQuarterOfTheLease() {
        let at = MonotonicInstant(nanoseconds: 1_000_000_000)
        func change(_ untilMs: Int, ends: Bool = false) -> LeaseChange {
            LeaseChange(term: 1, at: at, until: ends ? at : at + .milliseconds(untilMs))
        }
        let published = (at + .milliseconds(800)).nanoseconds
        #expect(LeadershipEventHub.publishes(change(900), changesIndex: true, after: published), "a begin always")
        #expect(LeadershipEventHub.publishes(change(0, ends: true), changesIndex: true, after: published), "an end always")
        #expect(!LeadershipEventHub.publishes(change(900), changesIndex: false, after: published), "moved 100 of 900 ms")
        #expect(LeadershipEventHub.publishes(change(1_100), changesIndex: false, after: published), "moved 300 of 1100 ms")
        #expect(LeadershipEventHub.publishes(change(900), changesIndex: false, after: nil), "nothing sent yet")
    }

    @Test func aBlockingQueryWakesOnAChangeOrTimesOut() async {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        #expect(await hub.waitForIndex(above: 0, timeout: .milliseconds(30)) == false)
        let waiting = Task { await hub.waitForIndex(above: 0, timeout: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(20))
        elect(view, term: 1, at: 10)
        #expect(await waiting.value)
        #expect(await hub.waitForIndex(above: 1, timeout: .seconds(60)), "an index already passed answers at once")
    }
}
