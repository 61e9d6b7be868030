import BallotRuntime
import Dispatch
import Glibc
import Synchronization

/// `ballot watch`: one JSON line per change of a node's leadership view, and optionally a command
/// run for each, with the new view in its environment.
///
/// A change is a new (index, term, leader, is_leader): lease extensions, and the `state` that opens
/// a reconnected stream when nothing moved, print nothing. A node restart restarts its index, so
/// the index is compared for equality, not order.
public enum LeadershipWatch {
    public struct Options: Sendable {
        public var subscription: LeadershipSubscription.Options
        /// Run with `/bin/sh -c` for each change, one at a time and in order.
        public var exec: String?
        /// Stop after this many change lines (nil: never).
        public var count: Int?

        public init(subscription: LeadershipSubscription.Options) { self.subscription = subscription }
    }

    /// What a change line says about the node's role.
    public enum Role: String, Sendable {
        /// The node holds a valid lease: it leads.
        case leader
        /// Another node leads, as this node knows.
        case follower
        /// No leader is known, or this node is the leader but holds no valid lease (yet, or any more).
        case none
    }

    public static func role(of event: LeadershipStreamEvent) -> Role {
        if event.isLeader { return .leader }
        if let leader = event.leader, leader != event.node { return .follower }
        return .none
    }

    /// The JSON line for a change (keys in a fixed order, `null` for absent values).
    public static func line(for event: LeadershipStreamEvent) -> String {
        let leader = event.leader.map(String.init) ?? "null"
        return "{\"event\":\"\(event.kind.rawValue)\",\"index\":\(event.index),\"node\":\(event.node),\"term\":\(event.term),"
            + "\"leader\":\(leader),\"role\":\"\(role(of: event).rawValue)\",\"is_leader\":\(event.isLeader),"
            + "\"mono_ns\":\(event.at.nanoseconds)}"
    }

    /// The line printed once when the stream is lost (no `--exec` for it: the view is unknown, not changed).
    public static func line(for disconnect: LeadershipSubscription.Disconnect) -> String {
        "{\"event\":\"disconnected\",\"reason\":\"\(jsonEscaped(disconnect.description))\"}"
    }

    /// The variables `--exec` gets for a change.
    public static func environment(for event: LeadershipStreamEvent) -> [String] {
        [
            "BALLOT_ROLE=\(role(of: event).rawValue)", "BALLOT_TERM=\(event.term)",
            "BALLOT_LEADER=\(event.leader.map(String.init) ?? "")", "BALLOT_NODE_ID=\(event.node)",
            "BALLOT_INDEX=\(event.index)", "BALLOT_EVENT=\(event.kind.rawValue)",
        ]
    }

    /// Decides which events are changes.
    public struct ChangeFilter: Sendable {
        private var last: (index: UInt64, term: UInt64, leader: UInt64?, isLeader: Bool)?

        public init() {}

        public mutating func isChange(_ event: LeadershipStreamEvent) -> Bool {
            let key = (event.index, event.term, event.leader, event.isLeader)
            if let last, last == key { return false }
            last = key
            return true
        }
    }

    /// Watches until `count` lines were printed or the task is cancelled. `print` gets each line.
    public static func run(_ options: Options, print: @escaping @Sendable (String) -> Void,
                           log: @escaping @Sendable (String) -> Void) async {
        let (changes, continuation) = AsyncStream<LeadershipStreamEvent>.makeStream(bufferingPolicy: .unbounded)
        let state = Mutex<(filter: ChangeFilter, printed: Int, disconnected: Bool)>((ChangeFilter(), 0, false))
        let limit = options.count ?? .max
        let watcher = Task {
            await LeadershipSubscription.run(options.subscription) { update in
                switch update {
                case .event(let event):
                    let isNew = state.withLock { state -> Bool in
                        state.disconnected = false
                        guard state.printed < limit, state.filter.isChange(event) else { return false }
                        state.printed += 1
                        return true
                    }
                    guard isNew else { return }
                    print(line(for: event))
                    continuation.yield(event)
                    if state.withLock({ $0.printed }) >= limit { continuation.finish() }
                case .disconnected(let disconnect):
                    let first = state.withLock { state -> Bool in
                        defer { state.disconnected = true }
                        return !state.disconnected
                    }
                    if first { print(line(for: disconnect)) }
                case .skipped(let detail):
                    log("skipped: \(detail)")
                case .connected:
                    break
                }
            }
            continuation.finish()
        }
        // `--exec` runs here, one change at a time, so a slow command delays later ones but loses none.
        for await change in changes {
            guard let exec = options.exec else { continue }
            let status = await runShell(exec, environment: ProcessSpawn.inheritedEnvironment(overriding: environment(for: change)))
            if let status, status != .exited(0) { log("--exec for index \(change.index): \(status)") }
        }
        watcher.cancel()
        await watcher.value
    }

    /// Runs `/bin/sh -c command` and waits for it on a thread of its own.
    static func runShell(_ command: String, environment: [String]) async -> ChildExit? {
        await withCheckedContinuation { (done: CheckedContinuation<ChildExit?, Never>) in
            DispatchQueue.global().async {
                do {
                    let pid = try ProcessSpawn.spawn(ProcessSpawn.Request(
                        executable: "/bin/sh", arguments: ["sh", "-c", command], environment: environment))
                    done.resume(returning: ProcessSpawn.wait(pid))
                } catch {
                    done.resume(returning: nil)
                }
            }
        }
    }
}

private func jsonEscaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if scalar.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                + String(scalar.value, radix: 16) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out
}
