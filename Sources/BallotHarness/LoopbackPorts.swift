import Glibc

/// TCP sockets on 127.0.0.1 for clusters started by tests and benchmarks: finding free ports,
/// checking listeners, and raw sockets for hand-made input.
public enum LoopbackPorts {
    /// The first port p ≥ `from` such that p…p+count−1 can all be bound right now.
    public static func consecutiveFree(_ count: Int, from start: Int) -> Int {
        var base = start
        for _ in 0..<500 {
            if base + count > 60_000 { base = 20_000 }
            if (0..<count).allSatisfy({ isFree(base + $0) }) { return base }
            base += count
        }
        return base
    }

    public static func isFree(_ port: Int) -> Bool {
        guard let fd = socket(boundTo: port) else { return false }
        close(fd)
        return true
    }

    /// Whether something accepts connections on 127.0.0.1:`port` right now.
    public static func isListening(_ port: Int) -> Bool {
        guard let fd = socket(connectedTo: port) else { return false }
        close(fd)
        return true
    }

    /// A TCP socket bound to 127.0.0.1:`port` (not yet listening), or nil. The caller closes it.
    public static func socket(boundTo port: Int) -> Int32? {
        make(port) { fd, address, length in bind(fd, address, length) }
    }

    /// A TCP socket connected to 127.0.0.1:`port`, or nil. The caller closes it.
    public static func socket(connectedTo port: Int) -> Int32? {
        make(port) { fd, address, length in connect(fd, address, length) }
    }

    private static func make(_ port: Int, _ operation: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32? {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                operation(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
