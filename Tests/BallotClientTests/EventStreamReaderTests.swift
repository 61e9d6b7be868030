import BallotClient
import BallotRuntime
import Testing

/// The keeper's reader of a raw `GET /events` response: head, chunked body, events.
struct EventStreamReaderTests {
    static func event(_ type: String, _ data: String, id: Int) -> String { "id: \(id)\nevent: \(type)\ndata: \(data)\n\n" }

    static let state = event("state", #"{"node":1,"term":4,"index":7,"leader":1,"mono_ns":10,"lease_until_mono_ns":99,"lease_unbounded":false,"is_leader":true}"#, id: 7)
    static let ended = event("lease", #"{"node":1,"term":4,"index":8,"leader":1,"mono_ns":20,"from_mono_ns":20,"until_mono_ns":20,"ends":true,"is_leader":false}"#, id: 8)

    static func chunked(_ parts: [String]) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + parts.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined()
    }

    func read(_ text: String, byteByByte: Bool) -> [EventStreamReader.Finding] {
        var reader = EventStreamReader()
        if byteByByte { return text.utf8.flatMap { reader.feed([$0]) } }
        return reader.feed(Array(text.utf8))
    }

    @Test(arguments: [false, true])
    func aChunkedStreamYieldsItsStatusAndEveryEventHoweverItIsSplit(byteByByte: Bool) {
        // One event split across two chunks, as a server may write it.
        let text = Self.chunked([Self.state, String(Self.ended.prefix(30)), String(Self.ended.dropFirst(30))])
        let findings = read(text, byteByByte: byteByByte)
        #expect(findings.count == 3)
        #expect(findings.first == .status(200))
        guard case .event(let first) = findings[1], case .event(let second) = findings[2] else {
            Issue.record("\(findings)")
            return
        }
        #expect(first.isLeader && first.term == 4)
        #expect(!second.isLeader && second.detail == .lease(from: MonotonicInstant(nanoseconds: 20), until: MonotonicInstant(nanoseconds: 20), ends: true))
    }

    @Test func aPlainBodyIsReadUntilTheEnd() {
        let findings = read("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + Self.state, byteByByte: false)
        #expect(findings.count == 2)
    }

    @Test func anErrorAnswerIsItsStatusAndNothingMore() {
        let findings = read("HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope!" + Self.state, byteByByte: false)
        #expect(findings == [.status(401)])
    }

    @Test func brokenFramingAndBrokenEventsAreUnreadable() {
        let badSize = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", byteByByte: false)
        #expect(badSize.last.map { if case .unreadable = $0 { true } else { false } } == true)
        let badEvent = read(Self.chunked([Self.event("lost", #"{"node":1}"#, id: 3)]), byteByByte: false)
        #expect(badEvent.last.map { if case .unreadable = $0 { true } else { false } } == true)
        let notHTTP = read("SSH-2.0-OpenSSH\r\n\r\n", byteByByte: false)
        #expect(notHTTP.map { if case .unreadable = $0 { true } else { false } } == [true])
    }
}
