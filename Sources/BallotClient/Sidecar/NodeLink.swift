import BallotRuntime
import Glibc

/// The keeper's own TCP connection to the node's HTTP port, held to learn from the kernel, in the
/// keeper's own wake-up, the instant the node stops leading or its process dies.
///
/// When a process dies its kernel closes its sockets and nothing listens on its port any more: the
/// connection ends and a new one is refused at once. That is the evidence fast failover acts on
/// (docs/architecture.md), and a successor may be elected within milliseconds of it — before the
/// dead leader's lease deadline. The sidecar sees the same evidence on its `/events` stream, but
/// through several threads of a busy process; the keeper is woken by the kernel directly and kills
/// CMD's group in the same wake-up. A connection the node closes (for idling, or an error) is simply
/// reopened; only a refused connection counts.
///
/// On a plain `http://` endpoint it also asks for `GET /events` and reads it (``EventStreamReader``):
/// every event says whether the node leads at the instant it was written, so the keeper learns of a
/// transfer or a step-down with no thread of the sidecar in between. Behind TLS, or when the node
/// does not answer 200, the connection is only watched.
struct NodeLink {
    enum Event: Equatable {
        /// A connection to the node's port was refused: its process is gone.
        case refused
        /// An event of the node's stream.
        case leadership(LeadershipStreamEvent)
    }

    private enum State {
        case waiting(until: MonotonicInstant)
        case connecting(Int32, since: MonotonicInstant)
        case connected(Int32)
    }

    private let address: [UInt8]
    private let family: Int32
    private var state: State
    /// The request sent on each new connection (`GET /events`), or nil to only watch it.
    private var request: [UInt8]?
    private var reader = EventStreamReader()
    private var backoff: Duration = Self.minimumBackoff
    static let minimumBackoff: Duration = .milliseconds(50)
    static let maximumBackoff: Duration = .seconds(1)
    static let connectTimeout: Duration = .seconds(2)

    /// Resolves `host` once (an IP literal, or a name through the system resolver). With
    /// `readEvents`, each connection asks for `GET /events` with `headers` (`Name: value`).
    init?(host: String, port: Int, readEvents: Bool, headers: [String] = []) {
        if readEvents {
            let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            let lines = ["GET /events HTTP/1.1", "Host: \(authority)", "Accept: text/event-stream", "Cache-Control: no-cache"]
                + headers
            request = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        family = first.pointee.ai_family
        address = Array(UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        state = .waiting(until: .zero)
    }

    /// What to poll for now, if anything.
    var pollEntry: pollfd? {
        switch state {
        case .waiting: nil
        case .connecting(let descriptor, _): pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        case .connected(let descriptor): pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        }
    }

    /// When the link must be serviced without a poll event (a retry, a connect timeout).
    var nextDue: MonotonicInstant? {
        switch state {
        case .waiting(let until): until
        case .connecting(_, let since): since + Self.connectTimeout
        case .connected: nil
        }
    }

    /// Handles `revents` for ``pollEntry`` (0 without an event) at `now`.
    mutating func service(revents: Int16, at now: MonotonicInstant) -> [Event] {
        switch state {
        case .waiting(let until):
            return now >= until ? connect(at: now) : []
        case .connecting(let descriptor, let since):
            if revents == 0 {
                if now - since >= Self.connectTimeout { close(descriptor); retry(at: now) }
                return []
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
            if failure == 0 {
                connected(descriptor)
                return []
            }
            close(descriptor)
            retry(at: now)
            return failure == ECONNREFUSED ? [.refused] : []
        case .connected(let descriptor):
            guard revents != 0 else { return [] }
            var events: [Event] = []
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    if request != nil { events += findings(reader.feed(buffer[..<count])) }
                    if count < buffer.count { return events }
                    continue
                }
                if count < 0 && (errno == EAGAIN || errno == EINTR) { return events }
                // Closed: by a dying process, or by a node that drops idle connections. A refused
                // reconnect tells them apart, at once.
                close(descriptor)
                return events + connect(at: now)
            }
        }
    }

    private mutating func findings(_ findings: [EventStreamReader.Finding]) -> [Event] {
        var events: [Event] = []
        for finding in findings {
            switch finding {
            case .event(let event): events.append(.leadership(event))
            case .status(200): break
            // Not an event stream here (an old node, a refused request): watch the connection only.
            case .status, .unreadable: request = nil
            }
        }
        return events
    }

    private mutating func connected(_ descriptor: Int32) {
        state = .connected(descriptor)
        backoff = Self.minimumBackoff
        reader = EventStreamReader()
        if let request {
            _ = request.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        }
    }

    private mutating func connect(at now: MonotonicInstant) -> [Event] {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            retry(at: now)
            return []
        }
        let result = address.withUnsafeBytes { bytes in
            Glibc.connect(descriptor, bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(bytes.count))
        }
        if result == 0 {
            connected(descriptor)
            return []
        }
        if errno == EINPROGRESS {
            state = .connecting(descriptor, since: now)
            return []
        }
        let failure = errno
        close(descriptor)
        retry(at: now)
        return failure == ECONNREFUSED ? [.refused] : []
    }

    private mutating func retry(at now: MonotonicInstant) {
        state = .waiting(until: now + backoff)
        backoff = min(backoff * 2, Self.maximumBackoff)
    }
}
