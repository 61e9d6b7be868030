import BallotSimulation

/// A fault of the sidecar suite (`ballot faults --sidecar`): a kind from the one fault vocabulary
/// (``FaultKind``) aimed at one of the three processes that make a leader-only command run — the
/// leading node, its sidecar (`ballot run`), or the command itself — or a resignation, which only
/// the node's HTTP surface offers.
public struct SidecarFault: Hashable, Sendable, CustomStringConvertible, Comparable {
    public enum Target: String, Sendable, CaseIterable {
        /// The leading `ballot serve` process.
        case node
        /// Its `ballot run`.
        case sidecar
        /// The writer `ballot run` started.
        case child
    }

    public enum Action: Hashable, Sendable {
        /// `crash` (SIGKILL, then a restart for node and sidecar), `pause` (SIGSTOP, then SIGCONT),
        /// `partition` (the leader cut off from the rest) or `transfer` (to a random follower).
        case fault(FaultKind)
        /// `POST /resign` on the leader.
        case resign
    }

    public var action: Action
    public var target: Target

    public init(_ action: Action, _ target: Target = .node) {
        self.action = action
        self.target = target
    }

    /// Every fault the suite injects, in the order its summary lists them.
    public static let all: [SidecarFault] = [
        SidecarFault(.fault(.crash), .node), SidecarFault(.fault(.pause), .node),
        SidecarFault(.fault(.crash), .sidecar), SidecarFault(.fault(.pause), .sidecar),
        SidecarFault(.fault(.crash), .child), SidecarFault(.fault(.pause), .child),
        SidecarFault(.fault(.partition)), SidecarFault(.fault(.transfer)), SidecarFault(.resign),
    ]

    /// `crash-node`, `pause-sidecar`, `partition`, `transfer`, `resign`…
    public var description: String {
        switch action {
        case .fault(.partition), .fault(.transfer): kindName
        case .resign: "resign"
        case .fault: "\(kindName)-\(target.rawValue)"
        }
    }

    var kindName: String {
        switch action {
        case .fault(let kind): kind.rawValue
        case .resign: "resign"
        }
    }

    public init?(named name: String) {
        guard let fault = Self.all.first(where: { $0.description == name }) else { return nil }
        self = fault
    }

    /// Whether it needs network namespaces.
    public var needsNetwork: Bool {
        if case .fault(let kind) = action { return kind.needsNetwork }
        return false
    }

    public static func < (a: SidecarFault, b: SidecarFault) -> Bool {
        all.firstIndex(of: a)! < all.firstIndex(of: b)!
    }
}
