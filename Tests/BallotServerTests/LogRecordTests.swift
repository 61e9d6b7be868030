import Foundation
import Logging
import BallotTestKit
import Testing
@testable import BallotServer

/// A log record is exactly one line in every format, with stable keys in a stable order.
@Suite struct LogRecordTests {
    static let record = LogRecord(
        timestamp: WallClockTime(seconds: 1_738_324_800, nanoseconds: 7_000_000), level: .notice,
        message: "leader elected", metadata: [
            "leader": "2", "term": "7", "event": "leader_elected", "node": "1", "leaderless_ms": "312",
        ])

    @Test func timestampsAreRFC3339InUTCWithMilliseconds() {
        #expect(WallClockTime(seconds: 1_738_324_800, nanoseconds: 7_000_000).rfc3339 == "2025-01-31T12:00:00.007Z")
        #expect(WallClockTime(seconds: 0, nanoseconds: 999_999_999).rfc3339 == "1970-01-01T00:00:00.999Z")
        #expect(WallClockTime.now.rfc3339.count == 24)
    }

    @Test func jsonHasTheFixedKeysFirstThenNodeTermEventThenTheRestSorted() throws {
        let line = Self.record.line(.json)
        #expect(line == #"{"ts":"2025-01-31T12:00:00.007Z","level":"notice","msg":"leader elected","node":"1","term":"7","#
            + #""event":"leader_elected","leader":"2","leaderless_ms":"312"}"#)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["msg"] == "leader elected" && object["event"] == "leader_elected")
    }

    @Test func logfmtAndTextKeepTheSameOrder() {
        #expect(Self.record.line(.logfmt)
            == "ts=2025-01-31T12:00:00.007Z level=notice msg=\"leader elected\" node=1 term=7 event=leader_elected leader=2 leaderless_ms=312")
        #expect(Self.record.line(.text)
            == "2025-01-31T12:00:00.007Z notice   leader elected node=1 term=7 event=leader_elected leader=2 leaderless_ms=312")
    }

    /// Newlines, quotes, backslashes and control characters never break a record over lines, and
    /// every format reads back to the original text.
    @Test(arguments: ["two\nlines", "tab\there", "quote \" and \\ backslash", "bell \u{07}", "crlf\r\n",
                      "separator \u{2028} here", "key=value", "", "ünïcødé ✓"])
    func everyRecordIsOneLine(text: String) throws {
        let record = LogRecord(timestamp: .now, level: .error, message: text, metadata: ["detail": .string(text)])
        for format in LogFormat.allCases {
            let line = record.line(format)
            #expect(!line.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || $0 == "\u{2028}" || $0 == "\u{2029}" },
                    "\(format): \(line.debugDescription)")
        }
        let object = try #require(JSONSerialization.jsonObject(with: Data(record.line(.json).utf8)) as? [String: String])
        #expect(object["msg"] == text && object["detail"] == text)
        let fields = try LogfmtParser.parse(record.line(.logfmt))
        #expect(fields["msg"] == text && fields["detail"] == text)
    }

    @Test func metadataThatCollidesWithAFixedKeyIsRenamedNotLost() throws {
        let record = LogRecord(timestamp: .now, level: .info, message: "m", metadata: ["msg": "other", "ts": "x"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(record.line(.json).utf8)) as? [String: String])
        #expect(object["msg"] == "m" && object["meta_msg"] == "other" && object["meta_ts"] == "x")
    }

    @Test func nestedMetadataStaysStructuredInJSON() throws {
        let record = LogRecord(timestamp: .now, level: .info, message: "m", metadata: [
            "peers": .array(["2", "3"]), "limits": .dictionary(["max": "4"]),
        ])
        let object = try #require(JSONSerialization.jsonObject(with: Data(record.line(.json).utf8)) as? [String: Any])
        #expect(object["peers"] as? [String] == ["2", "3"])
        #expect(object["limits"] as? [String: String] == ["max": "4"])
        #expect(record.line(.logfmt).hasSuffix("limits=\"[max: 4]\" peers=\"[2, 3]\""))
    }

    @Test func logfmtKeysAreSanitized() {
        #expect(LogEscaping.logfmtKey("a b=c") == "a_b_c")
        #expect(LogEscaping.logfmtKey("node.id-2") == "node.id-2")
    }

    /// The handler writes one record per call, with the node on every record, through a real pipe.
    @Test func theHandlerWritesOneLinePerRecordWithItsMetadata() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let sink = LogSink(descriptor: fds[1])
        var logger = Logger(label: "test") { _ in
            BallotLogHandler(format: .json, level: .info, metadata: ["node": "3"], sink: sink)
        }
        logger.logLevel = .info
        logger.debug("not written")
        logger.notice("first\nsecond", metadata: ["event": "test", "term": "9"])
        logger[metadataKey: "extra"] = "x"
        logger.info("again")
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty, "two records and a final newline: \(lines)")
        let first = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: String])
        #expect(first["node"] == "3" && first["term"] == "9" && first["event"] == "test" && first["msg"] == "first\nsecond")
        #expect(first["level"] == "notice")
        let second = try #require(JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: String])
        #expect(second["extra"] == "x" && second["node"] == "3")
    }
}
