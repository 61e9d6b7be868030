/// One server of an ensemble, as a client reaches it.
public struct ZooKeeperServerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses ZooKeeper's connect string, `host:port,host:port,…` (IPv6 hosts in brackets).
    /// A chroot suffix (`…/app`) is not supported and refused.
    public static func parseList(_ text: String) throws(ZooKeeperConfigurationError) -> [ZooKeeperServerAddress] {
        var servers: [ZooKeeperServerAddress] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = item.trimmingWhitespace()
            guard !entry.isEmpty else { throw .invalidServer(String(item), "empty entry") }
            if entry.contains("/") { throw .invalidServer(entry, "a chroot path is not supported") }
            let host: Substring
            let portText: Substring
            if entry.hasPrefix("[") {
                guard let close = entry.firstIndex(of: "]"), entry[entry.index(after: close)...].hasPrefix(":") else {
                    throw .invalidServer(entry, "expected [IPv6]:port")
                }
                host = entry[entry.index(after: entry.startIndex)..<close]
                portText = entry[entry.index(close, offsetBy: 2)...]
            } else {
                guard let colon = entry.lastIndex(of: ":") else { throw .invalidServer(entry, "expected host:port") }
                host = entry[..<colon]
                portText = entry[entry.index(after: colon)...]
            }
            guard !host.isEmpty else { throw .invalidServer(entry, "empty host") }
            guard let port = Int(portText), (1...65_535).contains(port) else {
                throw .invalidServer(entry, "port must be 1-65535")
            }
            servers.append(ZooKeeperServerAddress(host: String(host), port: port))
        }
        return servers
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
