/// Reads a whole HTTP/1.1 response to `GET /events` from raw bytes: the status line and headers,
/// a chunked (or plain) body, the event stream inside it, and each event typed by the contract.
///
/// The keeper of `ballot run` holds its own plain connection to the node and uses this, so that a
/// process with no threads and no event loop learns, in the wake-up the kernel gives it, that the
/// node stopped leading. A pure value: bytes in, findings out.
public struct EventStreamReader: Sendable {
    public enum Finding: Sendable, Equatable {
        /// The response's status code.
        case status(Int)
        case event(LeadershipStreamEvent)
        /// The response cannot be read as an event stream; nothing more will be found.
        case unreadable(String)
    }

    private enum Phase: Sendable {
        case head
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case plain
        case done
    }

    private var phase = Phase.head
    private var buffer: [UInt8] = []
    private var chunked = false
    private var parser = ServerSentEventParser()

    /// The longest response head or chunk-size line accepted.
    static let maximumHeadBytes = 16 * 1024

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Finding] {
        buffer += bytes
        var findings: [Finding] = []
        var progressed = true
        while progressed {
            progressed = false
            switch phase {
            case .done:
                buffer.removeAll()
                return findings
            case .head:
                guard let end = find([0x0D, 0x0A, 0x0D, 0x0A]) else {
                    if buffer.count > Self.maximumHeadBytes { fail("the response head is too long", into: &findings) }
                    return findings
                }
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
                let parts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
                guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                    fail("not an HTTP/1.1 response", into: &findings)
                    return findings
                }
                findings.append(.status(status))
                guard status == 200 else {
                    phase = .done
                    return findings
                }
                chunked = lines.dropFirst().contains { line in
                    let pair = line.split(separator: ":", maxSplits: 1)
                    return pair.count == 2 && pair[0].lowercased() == "transfer-encoding"
                        && pair[1].lowercased().contains("chunked")
                }
                phase = chunked ? .chunkSize : .plain
                progressed = true
            case .chunkSize:
                guard let end = find([0x0D, 0x0A]) else {
                    if buffer.count > Self.maximumHeadBytes { fail("a chunk-size line is too long", into: &findings) }
                    return findings
                }
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                let digits = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
                guard let size = Int(digits.trimmingSpaces, radix: 16), size >= 0 else {
                    fail("a bad chunk size \"\(line)\"", into: &findings)
                    return findings
                }
                phase = size == 0 ? .done : .chunkData(remaining: size)
                progressed = true
            case .chunkData(let remaining):
                guard !buffer.isEmpty else { return findings }
                let take = min(remaining, buffer.count)
                deliver(buffer[..<take], into: &findings)
                if case .done = phase { return findings }
                buffer.removeFirst(take)
                phase = take == remaining ? .chunkEnd : .chunkData(remaining: remaining - take)
                progressed = true
            case .chunkEnd:
                guard buffer.count >= 2 else { return findings }
                guard buffer[0] == 0x0D && buffer[1] == 0x0A else {
                    fail("a chunk does not end with CRLF", into: &findings)
                    return findings
                }
                buffer.removeFirst(2)
                phase = .chunkSize
                progressed = true
            case .plain:
                deliver(buffer[...], into: &findings)
                buffer.removeAll()
            }
        }
        return findings
    }

    private mutating func deliver(_ bytes: ArraySlice<UInt8>, into findings: inout [Finding]) {
        do throws(ServerSentEventParser.Problem) {
            for raw in try parser.feed(bytes) {
                do throws(LeadershipStreamEvent.Problem) {
                    findings.append(.event(try LeadershipStreamEvent(raw)))
                } catch {
                    if case .unknownType = error { continue }
                    fail(error.description, into: &findings)
                    return
                }
            }
        } catch {
            fail(error.description, into: &findings)
        }
    }

    private mutating func fail(_ reason: String, into findings: inout [Finding]) {
        findings.append(.unreadable(reason))
        phase = .done
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for start in 0...(buffer.count - pattern.count) where buffer[start] == pattern[0] {
            if Array(buffer[start..<(start + pattern.count)]) == pattern { return start }
        }
        return nil
    }
}
