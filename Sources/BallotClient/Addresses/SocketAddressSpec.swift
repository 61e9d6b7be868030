#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `HOST:PORT` a node listens on or connects to, as configured (not yet resolved).
///
/// Accepted hosts: an IPv4 literal (`127.0.0.1`), an IPv6 literal in brackets (`[::1]`), or a
/// DNS host name (`localhost`, `node-2.example`). IP literals are kept in canonical form, host
/// names in lower case, so that equal addresses compare equal.
public struct SocketAddressSpec: Hashable, Sendable, CustomStringConvertible {
    public enum Host: Hashable, Sendable {
        /// Dotted-quad form, e.g. `127.0.0.1`.
        case ipv4(String)
        /// Canonical text form without brackets, e.g. `::1`.
        case ipv6(String)
        /// A lower-cased DNS name, e.g. `localhost`.
        case name(String)
    }

    public let host: Host
    /// 1…65535.
    public let port: Int

    /// Checks a host and port given apart.
    public init(validatingHost host: String, port: Int) throws(AddressProblem) {
        guard (1...65535).contains(port) else { throw .invalidPort(String(port)) }
        self.host = try Self.parseHost(host, bracketed: host.contains(":"))
        self.port = port
    }

    /// Parses `HOST:PORT`, e.g. `127.0.0.1:7001`, `localhost:7001` or `[::1]:7001`.
    public init(address text: String) throws(AddressProblem) {
        (host, port) = try Self.parse(text)
    }

    /// The host as a bind or connect call wants it: no brackets around IPv6.
    public var hostString: String {
        switch host {
        case .ipv4(let text), .ipv6(let text), .name(let text): text
        }
    }

    /// `0.0.0.0` or `::`: every local interface. Fine to listen on, meaningless to connect to.
    public var isWildcard: Bool { host == .ipv4("0.0.0.0") || host == .ipv6("::") }

    /// Whether binding both addresses on one machine would collide, or a connection to one could
    /// reach the other: the same port with the same host, with `localhost` and a loopback address,
    /// or with a wildcard and a loopback or wildcard address.
    public func overlaps(_ other: SocketAddressSpec) -> Bool {
        guard port == other.port else { return false }
        if host == other.host { return true }
        let local = isLoopback || isWildcard
        let otherLocal = other.isLoopback || other.isWildcard
        return local && otherLocal
    }

    /// `localhost`, `127.0.0.1` or `::1`.
    public var isLoopback: Bool {
        host == .name("localhost") || host == .ipv4("127.0.0.1") || host == .ipv6("::1")
    }

    public var description: String {
        switch host {
        case .ipv6(let text): "[\(text)]:\(port)"
        case .ipv4(let text), .name(let text): "\(text):\(port)"
        }
    }

    // MARK: - Parsing

    private static func parse(_ text: String) throws(AddressProblem) -> (Host, Int) {
        guard !text.isEmpty else { throw .empty }
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidIPv6(String(text.dropFirst())) }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .missingPort }
            portText = rest.dropFirst()
            return (try parseHost(String(hostText), bracketed: true), try parsePort(portText))
        }
        guard let colon = text.lastIndex(of: ":") else { throw .missingPort }
        hostText = text[..<colon]
        portText = text[text.index(after: colon)...]
        if hostText.contains(":") { throw .unbracketedIPv6 }
        guard !hostText.isEmpty else { throw .emptyHost }
        let port = try parsePort(portText)
        return (try parseHost(String(hostText), bracketed: false), port)
    }

    private static func parsePort(_ text: Substring) throws(AddressProblem) -> Int {
        guard !text.isEmpty else { throw .missingPort }
        guard text.count <= 5, text.isCanonicalDecimal, let port = Int(text),
              (1...65535).contains(port)
        else { throw .invalidPort(String(text)) }
        return port
    }

    private static func parseHost(_ text: String, bracketed: Bool) throws(AddressProblem) -> Host {
        if bracketed {
            guard let canonical = canonicalIP(text, family: AF_INET6) else { throw .invalidIPv6(text) }
            return .ipv6(canonical)
        }
        guard !text.isEmpty else { throw .emptyHost }
        // Digits and dots only: meant as an IPv4 literal, so `1.2.3` or `256.0.0.1` is an error
        // rather than a host name that fails to resolve later.
        if text.utf8.allSatisfy({ $0.isASCIIDigit || $0 == UInt8(ascii: ".") }) {
            guard let canonical = canonicalIP(text, family: AF_INET) else { throw .invalidIPv4(text) }
            return .ipv4(canonical)
        }
        guard isValidHostname(text) else { throw .invalidHostname(text) }
        return .name(text.lowercased())
    }

    /// RFC 1123: dot-separated labels of 1–63 letters, digits and hyphens, not starting or ending
    /// with a hyphen; at most 253 characters.
    private static func isValidHostname(_ text: String) -> Bool {
        guard text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            let bytes = label.utf8
            guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
            else { return false }
            return bytes.allSatisfy { $0.isASCIIDigit || $0.isASCIILetter || $0 == UInt8(ascii: "-") }
        }
    }

    /// The system's canonical text for an IP literal, or `nil` if `inet_pton` rejects it.
    private static func canonicalIP(_ text: String, family: Int32) -> String? {
        var binary = [UInt8](repeating: 0, count: 16)
        let parsed = binary.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) }
        guard parsed == 1 else { return nil }
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let printed = binary.withUnsafeBytes { bytes in
            output.withUnsafeMutableBufferPointer { buffer in
                inet_ntop(family, bytes.baseAddress, buffer.baseAddress, socklen_t(buffer.count))
            }
        }
        guard printed != nil else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
