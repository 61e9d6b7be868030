import BallotClient
import BallotCore

/// A node's identity and its peers taken from where a Kubernetes StatefulSet puts them, so that
/// one pod template serves every member (`id_from_hostname`, `members`, `peer_address_template`;
/// deploy/kubernetes/).
///
/// A StatefulSet names its pods `<set>-0`, `<set>-1`, … and sets each pod's hostname to its name;
/// a headless Service gives each pod the DNS name `<pod>.<service>.<namespace>.svc`. Ordinals start
/// at 0 and node IDs at 1, so pod `ballot-0` is node 1.
public enum StatefulSetIdentity {
    /// The node ID of the pod named by `hostname`: its ordinal suffix `-N` plus one. An FQDN's
    /// first label is the pod name.
    public static func nodeID(fromHostname hostname: String) throws(ConfigurationError) -> NodeID {
        let podName = hostname.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let dash = podName.lastIndex(of: "-") else { throw .hostnameWithoutOrdinal(hostname) }
        let suffix = String(podName[podName.index(after: dash)...])
        guard dash != podName.startIndex, suffix.isCanonicalDecimal, let ordinal = UInt64(suffix),
              ordinal < UInt64.max, let id = NodeID(ordinal + 1)
        else { throw .hostnameWithoutOrdinal(hostname) }
        return id
    }

    /// Every member but `node`, nodes 1…`members`, at the template's address for each.
    public static func peers(
        members: Int, template: PeerAddressTemplate, excluding node: NodeID
    ) throws(ConfigurationError) -> [PeerAddress] {
        guard (1...maximumMembers).contains(members) else { throw .memberCountOutOfRange(members) }
        guard node.rawValue <= UInt64(members) else { throw .nodeOutsideMembers(node, members: members) }
        var peers: [PeerAddress] = []
        for raw in 1...UInt64(members) where raw != node.rawValue {
            let id = NodeID(raw)!
            peers.append(PeerAddress(id: id, address: try template.address(of: id)))
        }
        return peers
    }

    /// More members than this is a typo: an election needs a majority's answers.
    public static let maximumMembers = 1000
}

/// A peer address with placeholders for the member it names: `{ordinal}` (the StatefulSet pod
/// ordinal, ID − 1) and `{id}`, e.g. `ballot-{ordinal}.ballot-peers.prod.svc:7001`.
public struct PeerAddressTemplate: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    private let parts: [Part]

    private enum Part: Hashable, Sendable {
        case literal(String)
        case ordinal
        case id
    }

    public static let placeholders = ["{ordinal}", "{id}"]

    /// Checks the placeholders and that the result is an address, for node 1.
    public init(parsing text: String) throws(ConfigurationError) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw .invalidPeerAddressTemplate(text, .unclosedPlaceholder)
            }
            switch rest[open...close] {
            case "{ordinal}": parts.append(.ordinal)
            case "{id}": parts.append(.id)
            case let other: throw .invalidPeerAddressTemplate(text, .unknownPlaceholder(String(other)))
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        guard parts.contains(.ordinal) || parts.contains(.id) else {
            throw .invalidPeerAddressTemplate(text, .noPlaceholder)
        }
        self.text = text
        self.parts = parts
        do throws(ConfigurationError) {
            _ = try address(of: 1)
        } catch {
            guard case .invalidAddress(let address, let problem) = error else { throw error }
            throw .invalidPeerAddressTemplate(text, .notAnAddress(address, problem))
        }
    }

    /// The address of `node`.
    public func address(of node: NodeID) throws(ConfigurationError) -> SocketAddressSpec {
        let text = parts.map { part in
            switch part {
            case .literal(let literal): literal
            case .ordinal: String(node.rawValue - 1)
            case .id: String(node.rawValue)
            }
        }.joined()
        return try SocketAddressSpec(parsing: text)
    }

    public var description: String { text }
}
