@testable import BallotBackends
import BallotCore
import Testing

/// The strict JSON parser under the etcd gateway client: what it accepts, and that it refuses what
/// RFC 8259 does not allow, with the byte offset, and never traps on garbage.
@Suite struct JSONValueTests {
    func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONValue(parsing: Array(text.utf8)) }

    @Test func acceptsTheGatewaysAnswers() throws {
        let value = try parse(#"{"result":{"header":{"revision":"12"},"events":[{"kv":{"key":"YQ==","create_revision":"5"}},{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"12"}}],"created":true,"n":-1.5e3,"z":null}}"#)
        guard case .object(let top) = value, case .object(let result)? = top["result"] else {
            Issue.record("not an object")
            return
        }
        #expect(result["created"] == .bool(true))
        #expect(result["n"] == .number("-1.5e3"))
        #expect(result["z"] == .null)
        guard case .array(let events)? = result["events"] else {
            Issue.record("no events")
            return
        }
        #expect(events.count == 2)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try parse(#""a\"\\\/\b\f\n\r\tZ""#) == .string("a\"\\/\u{08}\u{0C}\n\r\tZ"))
        #expect(try parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{\"a\":1} x", "trailing bytes"),
        ("{\"a\":1,\"a\":2}", "duplicate member"),
        ("{\"a\" 1}", "expected ':'"),
        ("[1,]", "unexpected byte"),
        ("01", "trailing bytes"),
        ("1.", "expected a digit after '.'"),
        ("-", "expected a digit"),
        ("1e", "expected a digit in the exponent"),
        ("\"\\x\"", "an unknown escape"),
        ("\"\\ud800\"", "a high surrogate without its low surrogate"),
        ("\"a\u{01}\"", "a control character in a string"),
        ("\"abc", "unexpected end of input in a string"),
        ("tru", "expected true"),
        ("{'a':1}", "expected a member name"),
    ])
    func refusesWhatTheGrammarDoesNot(text: String, problem: String) {
        #expect {
            _ = try parse(text)
        } throws: { error in
            (error as? JSONParseError)?.problem.contains(problem) == true
        }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0xFE, 0x22]) }
        let deep = String(repeating: "[", count: JSONValue.maximumDepth + 1) + String(repeating: "]", count: JSONValue.maximumDepth + 1)
        #expect(throws: JSONParseError.self) { try parse(deep) }
        let fine = String(repeating: "[", count: JSONValue.maximumDepth - 1) + String(repeating: "]", count: JSONValue.maximumDepth - 1)
        #expect(throws: Never.self) { try parse(fine) }
    }

    /// What it writes, it reads back the same.
    @Test func serializationRoundTrips() throws {
        let value = JSONValue.object([
            "s": .string("quote \" backslash \\ newline \n control \u{01} é"), "n": .number("-12"),
            "a": .array([.bool(true), .bool(false), .null, .object([:])]),
        ])
        #expect(try JSONValue(parsing: value.serialized) == value)
    }

    /// Seeded garbage, and every prefix of a real answer: the parser returns or throws, never traps.
    @Test func garbageAndTruncationNeverTrap() {
        var random = SplitMix64(seed: 17)
        let alphabet = Array(#"{}[]",:-0123456789.eE+truefalsn\u"ab "#.utf8) + [0x00, 0xFF, 0x0A]
        var parsed = 0
        for _ in 0..<3000 {
            let length = Int(random.next() % 40)
            let bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            if (try? JSONValue(parsing: bytes)) != nil { parsed += 1 }
        }
        let answer = Array(#"{"result":{"header":{"revision":"7"},"events":[{"kv":{"key":"YQ==","value":"MQ=="}}]}}"#.utf8)
        for end in 0..<answer.count {
            #expect(throws: JSONParseError.self) { try JSONValue(parsing: Array(answer[0..<end])) }
        }
        #expect(parsed < 3000, "garbage is mostly refused")
    }

    @Test func base64RoundTripsAndRefusesBadInput() {
        for length in 0..<10 {
            let bytes = (0..<length).map { UInt8($0 * 37 % 256) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("/ballot/elections/x/".utf8)) == "L2JhbGxvdC9lbGVjdGlvbnMveC8=")
        for bad in ["a", "ab=c", "a===", "ab!d", "=abc"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }
}
