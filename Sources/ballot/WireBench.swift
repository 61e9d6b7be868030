import ArgumentParser
import BallotCore
import BallotWire
import Foundation

/// `ballot bench wire`: encode and decode rate per message type, and heap allocations per message.
struct WireBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire",
        abstract: "Measure the peer-protocol codec: encode/decode rate per message type and allocations per message.",
        discussion: """
            Rates come from a timed loop (use a release build: swift build -c release). With --allocations the \
            command re-runs its loops under valgrind (Debian's valgrind package) and reports heap \
            allocations per message as (allocations with N messages − allocations with 0) / N.
            """
    )

    @Option(help: "Messages per timed loop.")
    var iterations: Int = 200_000

    @Flag(help: "Count heap allocations per message under valgrind (slow).")
    var allocations = false

    @Option(help: "Internal: run only this loop (encode:KIND or decode:KIND) for the allocation count.")
    var only: String?

    static let samples: [(MessageKind, Message)] = [
        (.preVoteRequest, .preVoteRequest(VoteRequest(term: 41, lastLog: LogPosition(index: 40, term: 40)))),
        (.preVoteResponse, .preVoteResponse(VoteResponse(term: 41, granted: true))),
        (.voteRequest, .voteRequest(VoteRequest(term: 41, lastLog: LogPosition(index: 40, term: 40), isTransfer: true))),
        (.voteResponse, .voteResponse(VoteResponse(term: 41, granted: false))),
        (.heartbeat, .heartbeat(Heartbeat(term: 41, sequence: 123_456, leaderLog: LogPosition(index: 41, term: 41), transferTarget: 3))),
        (.heartbeatResponse, .heartbeatResponse(HeartbeatResponse(term: 41, sequence: 123_456, lastLog: LogPosition(index: 41, term: 41)))),
        (.timeoutNow, .timeoutNow(TimeoutNow(term: 41))),
    ]

    func run() async throws {
        if let only { try runOnly(only); return }
        printLine("ballot wire codec: \(iterations) messages per loop")
        printLine("type                 bytes   encode ns/msg   encode msg/s   decode ns/msg   decode msg/s\(allocations ? "   allocs/encode   allocs/decode" : "")")
        for (kind, message) in Self.samples {
            let frame = PeerFrame.message(message)
            let bytes = FrameEncoder.encode(frame)
            let encode = time { for _ in 0..<iterations { blackHole(FrameEncoder.encode(frame).count) } }
            let stream = [UInt8](repeating: 0, count: 0) + (0..<1_000).flatMap { _ in bytes }
            let rounds = max(1, iterations / 1_000)
            let decode = time {
                for _ in 0..<rounds {
                    var decoder = FrameDecoder()
                    decoder.append(stream)
                    while let decoded = try? decoder.nextFrame() { blackHole(decoded == frame ? 1 : 0) }
                }
            }
            let encodeNs = encode / Double(iterations) * 1e9
            let decodeNs = decode / Double(rounds * 1_000) * 1e9
            var line = kind.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
                + String(format: " %5d %15.1f %14.0f %15.1f %14.0f", bytes.count, encodeNs, 1e9 / encodeNs, decodeNs, 1e9 / decodeNs)
            if allocations {
                let perEncode = try allocationsPerMessage("encode:\(kind.rawValue)")
                let perDecode = try allocationsPerMessage("decode:\(kind.rawValue)")
                line += String(format: " %15.2f %15.2f", perEncode, perDecode)
            }
            printLine(line)
        }
    }

    /// Runs the loop for one kind without timing (used under valgrind).
    func runOnly(_ spec: String) throws {
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let (_, message) = Self.samples.first(where: { $0.0.rawValue == parts[1] }) else {
            throw ValidationError("--only takes encode:KIND or decode:KIND")
        }
        let frame = PeerFrame.message(message)
        let bytes = FrameEncoder.encode(frame)
        if parts[0] == "encode" {
            for _ in 0..<iterations { blackHole(FrameEncoder.encode(frame).count) }
        } else {
            let stream = (0..<iterations).flatMap { _ in bytes }
            var decoder = FrameDecoder()
            decoder.append(stream)
            while let decoded = try decoder.nextFrame() { blackHole(decoded == frame ? 1 : 0) }
        }
    }

    /// (allocations with N messages − allocations with none) / N, from valgrind's heap summary.
    func allocationsPerMessage(_ spec: String) throws -> Double {
        let n = 1_000
        let with = try valgrindAllocations(spec, iterations: n)
        let without = try valgrindAllocations(spec, iterations: 0)
        return Double(with - without) / Double(n)
    }

    func valgrindAllocations(_ spec: String, iterations: Int) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/valgrind")
        process.arguments = ["--tool=memcheck", "--leak-check=no", ballotExecutable(), "bench", "wire", "--only", spec,
                             "--iterations", String(iterations)]
        let output = Pipe()
        process.standardError = output
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw ValidationError("valgrind is needed for --allocations: apt-get install valgrind") }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = text.split(separator: "\n").first(where: { $0.contains("total heap usage") }),
              let allocs = line.split(separator: " ").firstIndex(of: "allocs,").map({ line.split(separator: " ")[$0 - 1] }),
              let count = Int(allocs.replacingOccurrences(of: ",", with: ""))
        else { throw ValidationError("could not read valgrind's heap summary") }
        return count
    }

    func time(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        body()
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Keeps the optimizer from deleting a benchmark loop.
@inline(never) func blackHole(_ value: Int) {
    if value == Int.min { printLine("") }
}
