/// One event of a `text/event-stream`, as the WHATWG HTML standard's "interpret an event stream"
/// dispatches it (https://html.spec.whatwg.org/multipage/server-sent-events.html).
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field, `message` when absent.
    public var type: String
    /// The `data:` lines joined with line feeds.
    public var data: String
    /// The last `id:` seen on the stream so far (it carries over to events without one).
    public var lastEventID: String

    public init(type: String, data: String, lastEventID: String) {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
    }
}

/// Turns the bytes of a `text/event-stream` body, in chunks of any size, into events.
///
/// A pure value: bytes in, events out, so every rule of the standard is unit-tested without a
/// socket. Lines end with CR, LF or CRLF (also split across chunks); a leading byte-order mark is
/// skipped; `:` lines are comments (counted, since a keep-alive is one); an event is dispatched at a
/// blank line only if it had data; an incomplete event at the end of the stream is never dispatched.
public struct ServerSentEventParser: Sendable {
    /// The longest line accepted: a longer one is a broken or hostile stream, not an event.
    public static let maximumLineBytes = 64 * 1024

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case lineTooLong(Int)

        public var description: String {
            switch self {
            case .lineTooLong(let bytes):
                "an event-stream line exceeded \(bytes) bytes; the stream is not a Ballot /events stream"
            }
        }
    }

    private var line: [UInt8] = []
    private var afterCarriageReturn = false
    /// Bytes of a leading byte-order mark matched so far; 3 once the stream's start is behind us.
    private var byteOrderMarkMatched = 0
    private var dataBuffer = ""
    private var hasData = false
    private var eventType = ""
    private var lastEventIDBuffer = ""

    /// Comment lines seen so far (`: keep-alive` among them).
    public private(set) var comments = 0
    /// The last `retry:` value in milliseconds, if the server sent one.
    public private(set) var retryMilliseconds: Int?

    public init() {}

    /// The last event ID the stream set, to send as `Last-Event-ID` on reconnect.
    public var lastEventID: String { lastEventIDBuffer }

    /// Feeds the next chunk of the body and returns the events it completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(Problem) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byteOrderMarkMatched < Self.byteOrderMark.count {
                if byte == Self.byteOrderMark[byteOrderMarkMatched] {
                    byteOrderMarkMatched += 1
                    continue
                }
                // Not a byte-order mark after all: what matched so far is ordinary text.
                let replay = Self.byteOrderMark.prefix(byteOrderMarkMatched)
                byteOrderMarkMatched = Self.byteOrderMark.count
                for earlier in replay { try take(earlier, into: &events) }
            }
            try take(byte, into: &events)
        }
        return events
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private mutating func take(_ byte: UInt8, into events: inout [ServerSentEvent]) throws(Problem) {
        switch byte {
        case 0x0A:  // LF; the second half of a CRLF ends nothing
            if afterCarriageReturn {
                afterCarriageReturn = false
                return
            }
            if let event = endLine() { events.append(event) }
        case 0x0D:  // CR
            afterCarriageReturn = true
            if let event = endLine() { events.append(event) }
        default:
            afterCarriageReturn = false
            guard line.count < Self.maximumLineBytes else { throw .lineTooLong(Self.maximumLineBytes) }
            line.append(byte)
        }
    }

    /// Processes the line collected so far; returns an event if it was the blank line ending one.
    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") {
            comments += 1
            return nil
        }
        let name: String
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = String(decoding: line[..<colon], as: UTF8.self)
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = String(decoding: line, as: UTF8.self)
            value = []
        }
        let text = String(decoding: value, as: UTF8.self)
        switch name {
        case "event":
            eventType = text
        case "data":
            dataBuffer += text
            dataBuffer += "\n"
            hasData = true
        case "id":
            if !value.contains(0) { lastEventIDBuffer = text }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ $0.isASCIIDigit }), let milliseconds = Int(text) {
                retryMilliseconds = milliseconds
            }
        default:
            break  // unknown fields are ignored, as the standard says
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            dataBuffer = ""
            hasData = false
            eventType = ""
        }
        guard hasData else { return nil }
        var data = dataBuffer
        if data.hasSuffix("\n") { data.removeLast() }
        return ServerSentEvent(type: eventType.isEmpty ? "message" : eventType, data: data,
                               lastEventID: lastEventIDBuffer)
    }
}
