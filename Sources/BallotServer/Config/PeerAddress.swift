import BallotClient
import BallotCore

/// One other member of the cluster: its ID and the address its peer listener is reachable at.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public let id: NodeID
    public let address: SocketAddressSpec

    public init(id: NodeID, address: SocketAddressSpec) {
        self.id = id
        self.address = address
    }

    /// Parses a `--peer` value, `ID=HOST:PORT`, e.g. `2=127.0.0.1:7002`.
    public init(parsing text: String) throws(ConfigurationError) {
        guard let separator = text.firstIndex(of: "=") else { throw .invalidPeer(text, .missingSeparator) }
        let idText = String(text[..<separator])
        guard let id = NodeID(parsingDecimal: idText) else { throw .invalidPeer(text, .invalidNodeID(idText)) }
        do throws(ConfigurationError) {
            self.address = try SocketAddressSpec(parsing: String(text[text.index(after: separator)...]))
        } catch {
            guard case .invalidAddress(_, let problem) = error else { throw error }
            throw .invalidPeer(text, .invalidAddress(problem))
        }
        self.id = id
    }

    public var description: String { "\(id)=\(address)" }
}

extension NodeID {
    /// Parses a node ID written in decimal, e.g. `3`. Node IDs are positive.
    public init(parsing text: String) throws(ConfigurationError) {
        guard let id = NodeID(parsingDecimal: text) else { throw .invalidNodeID(text) }
        self = id
    }

    /// Digits only (no sign, no spaces, no leading zero), at least 1, at most `UInt64.max`.
    /// Leading zeros are refused because YAML 1.1 reads `010` as octal 8.
    init?(parsingDecimal text: String) {
        guard text.isCanonicalDecimal, let value = UInt64(text) else { return nil }
        self.init(value)
    }
}
