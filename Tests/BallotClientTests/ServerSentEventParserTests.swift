import BallotClient
import Testing

/// The event-stream rules of the WHATWG HTML standard, one by one.
struct ServerSentEventParserTests {
    private func parse(_ chunks: [String]) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += try parser.feed(Array(chunk.utf8)) }
        return events
    }

    @Test func anEventEndsAtABlankLineWithItsTypeIdAndData() throws {
        let events = try parse(["id: 7\nevent: elected\ndata: {\"term\":3}\n\n"])
        #expect(events == [ServerSentEvent(type: "elected", data: "{\"term\":3}", lastEventID: "7")])
    }

    @Test func dataLinesAreJoinedWithLineFeeds() throws {
        let events = try parse(["data: one\ndata: two\ndata\n\n"])
        #expect(events.map(\.data) == ["one\ntwo\n"])
        #expect(events.first?.type == "message")
    }

    @Test func everyLineEndingCountsAlsoWhenACRLFIsSplitAcrossChunks() throws {
        let mixed = try parse(["data: a\r\n\r\ndata: b\r\rdata: c\n\n"])
        #expect(mixed.map(\.data) == ["a", "b", "c"])
        // CR at the end of one chunk and LF at the start of the next are one line end, not two.
        let split = try parse(["data: a\r", "\ndata: b\r", "\n\r", "\n"])
        #expect(split.map(\.data) == ["a\nb"])
    }

    @Test func commentsAreCountedAndNeverDispatched() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array(": keep-alive\n\n: another\n".utf8))
        #expect(events.isEmpty)
        #expect(parser.comments == 2)
    }

    @Test func aLeadingByteOrderMarkIsSkippedButNotAnythingThatOnlyStartsLikeOne() throws {
        #expect(try parse(["\u{FEFF}data: x\n\n"]).map(\.data) == ["x"])
        var parser = ServerSentEventParser()
        // 0xEF 0xBB then a byte that is not 0xBF: a field name that starts with those bytes.
        let events = try parser.feed([0xEF, 0xBB, 0x41] + Array(": ignored\ndata: y\n\n".utf8))
        #expect(events.map(\.data) == ["y"])
    }

    @Test func onlyOneSpaceAfterTheColonIsDropped() throws {
        #expect(try parse(["data:x\n\n", "data:  x\n\n"]).map(\.data) == ["x", " x"])
    }

    @Test func anEventWithoutDataIsNotDispatchedAndItsTypeDoesNotLeak() throws {
        let events = try parse(["event: lease\nid: 4\n\ndata: z\n\n"])
        #expect(events == [ServerSentEvent(type: "message", data: "z", lastEventID: "4")])
    }

    @Test func anIncompleteEventAtTheEndIsNeverDispatched() throws {
        #expect(try parse(["data: half\n"]).isEmpty)
        #expect(try parse(["data: half"]).isEmpty)
    }

    @Test func theLastEventIdCarriesOverAndAnIdWithNulIsIgnored() throws {
        var parser = ServerSentEventParser()
        var events = try parser.feed(Array("id: 9\ndata: a\n\ndata: b\n\n".utf8))
        events += try parser.feed(Array("id: 1".utf8) + [0] + Array("2\ndata: c\n\n".utf8))
        #expect(events.map(\.lastEventID) == ["9", "9", "9"])
        #expect(parser.lastEventID == "9")
    }

    @Test func retryTakesDigitsOnly() throws {
        var parser = ServerSentEventParser()
        _ = try parser.feed(Array("retry: 1500\n\nretry: 2x\n\n".utf8))
        #expect(parser.retryMilliseconds == 1500)
    }

    @Test func feedingByteByByteGivesTheSameEvents() throws {
        let text = "\u{FEFF}: hello\r\nid: 3\r\nevent: state\r\ndata: {\"a\":1}\r\n\r\nevent: lost\ndata: x\n\n"
        var whole = ServerSentEventParser()
        let expected = try whole.feed(Array(text.utf8))
        var single = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for byte in text.utf8 { events += try single.feed([byte]) }
        #expect(events == expected)
        #expect(events.count == 2)
    }

    @Test func anEndlessLineIsRefused() {
        var parser = ServerSentEventParser()
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: ServerSentEventParser.maximumLineBytes + 1)
        do {
            _ = try parser.feed(long)
            Issue.record("a line of \(long.count) bytes was accepted")
        } catch {
            #expect(error == .lineTooLong(ServerSentEventParser.maximumLineBytes))
        }
    }
}
