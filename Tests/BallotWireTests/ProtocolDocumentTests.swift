import BallotCore
import BallotWire
import Foundation
import Testing

/// Keeps `docs/protocol.md` honest: its annotated hex examples must be exactly what the encoder writes.
@Suite("Protocol document")
struct ProtocolDocumentTests {
    static let acknowledgement = HeartbeatResponse(
        term: 5, sequence: 42, lastLog: LogPosition(index: 3, term: 5), candidacy: Candidacy(eligible: true, priority: 10))

    /// Each example's frame and the version its connection speaks.
    static let examples: [(name: String, frame: PeerFrame, version: UInt8)] = [
        ("handshake", .handshake(Handshake(nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft)), 2),
        ("heartbeat", .message(.heartbeat(Heartbeat(
            term: 5, sequence: 42, leaderLog: LogPosition(index: 3, term: 5), transferTarget: NodeID(2)))), 2),
        ("heartbeat_response_v2", .message(.heartbeatResponse(acknowledgement)), 2),
        ("heartbeat_response_v1", .message(.heartbeatResponse(acknowledgement)), 1),
        ("member_info", .memberInfo(try! MemberInfo(advertisedHTTP: "http://10.0.0.1:9101")), 2),
        ("lease_released", .message(.leaseReleased(LeaseReleased(term: 5))), 3),
        ("ring_election", .message(.ringElection(RingElection(epoch: 3, candidate: 5, sequence: 12))), 2),
        ("reject", .handshakeReply(.rejected(HandshakeRejection(
            reason: .wrongCluster, message: WireError.wrongCluster(expected: "prod", received: "test").description))), 2),
    ]

    static func document() throws -> String {
        let path = String(#filePath.split(separator: "/Tests/", omittingEmptySubsequences: false)[0]) + "/docs/protocol.md"
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    /// The bytes of the example marked `<!-- example: name -->`: on each line of the fenced block
    /// after the marker, the leading two-digit hex tokens; the rest of the line is annotation.
    static func exampleBytes(_ name: String, in document: String) -> [UInt8]? {
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false)
        guard let marker = lines.firstIndex(of: "<!-- example: \(name) -->"),
            marker + 1 < lines.count, lines[marker + 1].hasPrefix("```")
        else { return nil }
        var bytes: [UInt8] = []
        for line in lines[(marker + 2)...] {
            if line.hasPrefix("```") { return bytes }
            for token in line.split(separator: " ") {
                guard token.count == 2, let byte = UInt8(token, radix: 16) else { break }
                bytes.append(byte)
            }
        }
        return nil
    }

    @Test("every annotated hex example equals the encoder's output", arguments: examples.map(\.name))
    func examplesMatchEncoder(name: String) throws {
        let example = try #require(Self.examples.first { $0.name == name })
        let documented = try #require(Self.exampleBytes(name, in: try Self.document()), "example \(name) missing")
        #expect(documented == FrameEncoder.encode(example.frame, version: example.version))
        var expected = example.frame
        if example.version == 1, case .message(.heartbeatResponse(var response)) = expected {
            response.candidacy = .default  // Version 1 does not carry it.
            expected = .message(.heartbeatResponse(response))
        }
        #expect(try FrameDecoder.decode(documented) == expected)
    }

    @Test("the type-code table lists every frame type with its code")
    func typeCodeTable() throws {
        let document = try Self.document()
        for type in FrameType.allCases {
            let row = "| 0x\(String(type.rawValue, radix: 16, uppercase: true).leftPadded(to: 2))        | `\(type)`"
            #expect(document.contains(row), "missing row for \(type)")
        }
    }

    /// The type-code table's body-size column, by frame name: `25`, or a sum such as `18 + name + auth`.
    static func bodySizeColumn(in document: String) -> [String: String] {
        var sizes: [String: String] = [:]
        for line in document.split(separator: "\n") where line.hasPrefix("| 0x") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            // "", code, frame, size, "": a frame row names its frame in backticks.
            guard cells.count == 5, cells[2].hasPrefix("`"), cells[2].hasSuffix("`") else { continue }
            sizes[String(cells[2].dropFirst().dropLast())] = cells[3]
        }
        return sizes
    }

    /// The body size `column` gives for `frame`: its numbers, plus the bytes its variable parts
    /// (`name`, `auth`, `message`, `url`) hold in this frame; nil if the column names anything
    /// else. A remark in parentheses (such as the size in an older version) is not part of it.
    static func documentedBodySize(_ column: String, of frame: PeerFrame) -> Int? {
        var total = 0
        let size = column.split(separator: "(").first.map(String.init) ?? column
        for term in size.split(separator: "+").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            switch (term, frame) {
            case (let number, _) where Int(number) != nil: total += Int(number)!
            case ("name", .handshake(let handshake)): total += handshake.clusterName.byteCount
            case ("auth", .handshake(let handshake)): total += handshake.auth.payload.count
            case ("message", .handshakeReply(.rejected(let rejection))): total += rejection.message.utf8.count
            case ("message", .handshakeReply(.accepted)): break
            case ("url", .memberInfo(let info)): total += info.advertisedHTTP?.utf8.count ?? 0
            default: return nil
            }
        }
        return total
    }

    @Test("the type-code table's body sizes are what the encoder writes")
    func bodySizeColumn() throws {
        let sizes = Self.bodySizeColumn(in: try Self.document())
        #expect(Set(sizes.keys) == Set(FrameType.allCases.map(\.description)), "rows with a body size: \(sizes.keys.sorted())")
        for type in FrameType.allCases {
            let frames = Fixtures.frames.filter { $0.frameType == type }
            #expect(!frames.isEmpty, "no fixture of \(type)")
            let column = try #require(sizes[type.description], "no body size for \(type)")
            // Every fixture of the type (names, auth payloads and messages of many lengths); one issue per type.
            var mismatches: [String] = []
            for frame in frames {
                let documented = try #require(Self.documentedBodySize(column, of: frame), "\(type): cannot read '\(column)'")
                let encoded = FrameEncoder.encode(frame).count - FrameLayout.headerLength
                if documented != encoded { mismatches.append("table \(documented), encoder \(encoded)") }
            }
            let wrong = mismatches.count
            #expect(wrong == 0, "\(type): body size '\(column)' is wrong for \(wrong) of \(frames.count) fixtures, e.g. \(mismatches.prefix(2))")
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
