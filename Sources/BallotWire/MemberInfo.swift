/// What a member tells each peer about itself once a connection is established (protocol version
/// 2, issue 15): its advertised HTTP URL (`--advertise-http`), so every member can say where the
/// leader's HTTP endpoint is (`leader_http` of `GET /leader`) and a cluster-wide status can reach
/// every member.
///
/// Sent by the dialling side right after the handshakes, on every connection; a peer keeps the
/// latest one it received.
public struct MemberInfo: Hashable, Sendable {
    /// At most this many bytes of URL.
    public static let maximumURLByteCount = 255

    /// The member's HTTP base URL, e.g. `http://10.0.0.1:9101`; `nil` when it advertises none.
    public let advertisedHTTP: String?

    /// Checks the URL: 1–255 bytes of printable ASCII (no spaces or control characters), which is
    /// what a URL is and what keeps the text harmless in logs and JSON.
    public init(advertisedHTTP: String?) throws(WireError) {
        if let url = advertisedHTTP, !Self.isValidURL(url) {
            throw .invalidAdvertisedURL(url.utf8.count <= Self.maximumURLByteCount
                ? "must be printable ASCII without spaces"
                : "is \(url.utf8.count) bytes, more than \(Self.maximumURLByteCount)")
        }
        self.advertisedHTTP = advertisedHTTP
    }

    init(checked advertisedHTTP: String?) { self.advertisedHTTP = advertisedHTTP }

    /// A member that advertises nothing.
    public static let none = MemberInfo(checked: nil)

    /// 1–255 bytes, each 0x21…0x7E.
    public static func isValidURL(_ text: String) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= maximumURLByteCount && bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }

    var bodyLength: Int { 1 + (advertisedHTTP?.utf8.count ?? 0) }
}
