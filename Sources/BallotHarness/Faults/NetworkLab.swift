import Foundation
import Glibc

/// Linux network namespaces for one fault run: a bridge in a namespace of its own and one
/// namespace per node, joined by veth pairs, with addresses 10.213.0.(10+i)/24 that exist only
/// inside these namespaces. Partitions are nftables drops inside the nodes' namespaces; loss is an
/// nftables random drop; delay is `tc netem` when the kernel has it, else a token-bucket (`tbf`)
/// throttle that makes packets queue (a slow link).
///
/// Every namespace is named `ballotf-<pid>-<random>-…`. ``tearDown()`` deletes them (and thereby
/// every veth and rule); ``removeStale()`` deletes those left by runs whose process is gone.
public final class NetworkLab: @unchecked Sendable {
    public static let prefix = "ballotf-"
    public let runID: String
    public let nodeIDs: [UInt64]
    public private(set) var isUp = false
    /// Whether delay faults use `tc netem` (true) or the `tbf` throttle (false).
    public private(set) var hasNetem = false
    private let lock = NSLock()

    public init(nodes: [UInt64]) {
        runID = "\(Self.prefix)\(getpid())-\(String(UInt32.random(in: 0...0xFFFF), radix: 16))"
        nodeIDs = nodes
    }

    public var bridgeNamespace: String { "\(runID)-br" }
    public func namespace(of node: UInt64) -> String { "\(runID)-n\(node)" }
    public func address(of node: UInt64) -> String { "10.213.0.\(10 + node)" }
    static let table = "ballot_fault"

    /// Why namespaces cannot be used here, or nil when they can: probes by creating and deleting one.
    public static func unavailableReason() async -> String? {
        for tool in ["ip", "nft", "tc"] where Subprocess.locate(tool) == nil {
            return "`\(tool)` is not installed (scripts/test.sh installs iproute2 and nftables)"
        }
        guard getuid() == 0 else { return "network namespaces need root (uid \(getuid()))" }
        let probe = "\(prefix)\(getpid())-probe"
        let added = await Subprocess.run(["ip", "netns", "add", probe])
        guard added.succeeded else { return "the kernel refused `ip netns add`: \(added.error.trimmingCharacters(in: .whitespacesAndNewlines))" }
        let table = await Subprocess.run(["ip", "netns", "exec", probe, "nft", "add", "table", "inet", Self.table])
        await Subprocess.run(["ip", "netns", "del", probe])
        guard table.succeeded else { return "nftables does not work in a namespace: \(table.error)" }
        return nil
    }

    /// Deletes namespaces with this harness's prefix whose creating process no longer exists,
    /// killing (by PID) any `ballot` process still running inside them.
    public static func removeStale() async {
        let list = await Subprocess.run(["ip", "netns", "list"])
        for line in list.output.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(prefix) else { continue }
            let rest = name.dropFirst(prefix.count)
            guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }),
                  kill(pid, 0) != 0 && errno == ESRCH
            else { continue }
            await deleteNamespace(name)
        }
    }

    static func deleteNamespace(_ name: String) async {
        let pids = await Subprocess.run(["ip", "netns", "pids", name])
        for pid in pids.output.split(separator: "\n").compactMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        await Subprocess.run(["ip", "netns", "del", name])
    }

    /// Creates the bridge, the node namespaces and their links. On failure whatever was made is removed.
    public func setUp() async throws {
        do {
            try await Subprocess.check(["ip", "netns", "add", bridgeNamespace])
            lock.withLock { isUp = true }
            try await Subprocess.check(["ip", "-n", bridgeNamespace, "link", "add", "br0", "type", "bridge"])
            try await Subprocess.check(["ip", "-n", bridgeNamespace, "link", "set", "br0", "up"])
            for node in nodeIDs {
                let ns = namespace(of: node)
                try await Subprocess.check(["ip", "netns", "add", ns])
                try await Subprocess.check(["ip", "link", "add", "eth0", "netns", ns, "type", "veth",
                                            "peer", "name", "v\(node)", "netns", bridgeNamespace])
                try await Subprocess.check(["ip", "-n", bridgeNamespace, "link", "set", "v\(node)", "master", "br0"])
                try await Subprocess.check(["ip", "-n", bridgeNamespace, "link", "set", "v\(node)", "up"])
                try await Subprocess.check(["ip", "-n", ns, "addr", "add", "\(address(of: node))/24", "dev", "eth0"])
                try await Subprocess.check(["ip", "-n", ns, "link", "set", "eth0", "up"])
                try await Subprocess.check(["ip", "-n", ns, "link", "set", "lo", "up"])
                try await Subprocess.check(["ip", "netns", "exec", ns, "nft", "add", "table", "inet", Self.table])
                try await Subprocess.check(["ip", "netns", "exec", ns, "nft", "add", "chain", "inet", Self.table, "output",
                                            "{ type filter hook output priority 0; policy accept; }"])
            }
            let first = namespace(of: nodeIDs[0])
            let probe = await Subprocess.run(["ip", "netns", "exec", first, "tc", "qdisc", "add", "dev", "eth0", "root",
                                              "netem", "delay", "1ms"])
            hasNetem = probe.succeeded
            if probe.succeeded { await Subprocess.run(["ip", "netns", "exec", first, "tc", "qdisc", "del", "dev", "eth0", "root"]) }
        } catch {
            await tearDown()
            throw error
        }
    }

    /// Deletes every namespace of this run (veths, bridge and rules go with them). Idempotent.
    public func tearDown() async {
        guard lock.withLock({ () -> Bool in
            defer { isUp = false }
            return isUp
        }) else { return }
        for node in nodeIDs { await Self.deleteNamespace(namespace(of: node)) }
        await Self.deleteNamespace(bridgeNamespace)
    }

    // MARK: Faults

    /// Drops every packet `from` sends to any of `to` (one direction; call both ways for a cut).
    public func block(from: UInt64, to: [UInt64]) async throws {
        for target in to where target != from {
            try await nft(from, ["add", "rule", "inet", Self.table, "output", "ip", "daddr", address(of: target), "drop"])
        }
    }

    /// Drops `percent`% of the packets each of `nodes` sends to the other nodes, at random.
    public func loss(_ percent: Int, on nodes: [UInt64]) async throws {
        for node in nodes {
            try await nft(node, ["add", "rule", "inet", Self.table, "output", "ip", "daddr", "10.213.0.0/24",
                                 "numgen", "random", "mod", "100", "<", "\(percent)", "drop"])
        }
    }

    /// Delays what `node` sends by about `milliseconds`: netem where available, else a tbf throttle
    /// whose queue holds packets up to that long.
    public func delay(milliseconds: Int, on node: UInt64) async throws {
        let ns = namespace(of: node)
        if hasNetem {
            try await Subprocess.check(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", "netem",
                                        "delay", "\(milliseconds)ms", "\(max(1, milliseconds / 4))ms"])
        } else {
            try await Subprocess.check(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf",
                                        "rate", "24kbit", "burst", "1600", "latency", "\(milliseconds)ms"])
        }
    }

    /// Removes every drop rule and queueing discipline: the network is whole again.
    public func healAll() async throws {
        for node in nodeIDs {
            try await nft(node, ["flush", "chain", "inet", Self.table, "output"])
            await Subprocess.run(["ip", "netns", "exec", namespace(of: node), "tc", "qdisc", "del", "dev", "eth0", "root"])
        }
    }

    private func nft(_ node: UInt64, _ arguments: [String]) async throws {
        try await Subprocess.check(["ip", "netns", "exec", namespace(of: node), "nft"] + arguments)
    }
}
