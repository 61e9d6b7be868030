import BallotZooKeeper
import Logging

/// Everything a client delivers on its event stream, collected by a background task so that a
/// test can wait (bounded) for what it expects.
final class EventLog: Sendable {
    private let events = Locked<[ZooKeeperEvent]>([])
    private let finished = Locked(false)

    init(_ client: ZooKeeperClient) {
        let stream = client.events
        Task { [events, finished] in
            for await event in stream { events.withLock { $0.append(event) } }
            finished.withLock { $0 = true }
        }
    }

    var all: [ZooKeeperEvent] { events.value }
    /// Whether the stream has finished (after `expired` or `closed`).
    var isFinished: Bool { finished.value }

    var watches: [WatcherEvent] {
        all.compactMap { if case .watch(let event) = $0 { event } else { nil } }
    }

    /// Waits until `condition` holds for the events so far; false if it did not within `timeout`.
    @discardableResult
    func wait(upTo timeout: Duration, until condition: ([ZooKeeperEvent]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if condition(all) { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for the watch event on `path`; nil if it did not come within `timeout`.
    func watch(on path: String, upTo timeout: Duration) async -> WatcherEvent? {
        await wait(upTo: timeout) { _ in watches.contains { $0.path == path } }
        return watches.first { $0.path == path }
    }
}

/// Waits (bounded) until `condition` holds; false if it did not within `timeout`.
@discardableResult
func eventually(upTo timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

/// Connects with a logger that keeps routine session changes (info) out of the test output.
func connectClient(_ configuration: ZooKeeperConfiguration) async throws(ZooKeeperError) -> ZooKeeperClient {
    var logger = Logger(label: "ballot.zookeeper.test")
    logger.logLevel = .warning
    return try await ZooKeeperClient.connect(configuration, logger: logger)
}
