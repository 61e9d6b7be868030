import BallotCore
import BallotWire
import CMallocCounter

/// The peer-protocol codec benchmark: encode and decode rate per message type, and heap
/// allocations per message, counted by interposing the allocator (see CMallocCounter).
///
///     swift run -c release ballot-wire-bench [messages-per-loop]
///
/// Prints figures; it never passes or fails on speed.
let samples: [(MessageKind, Message)] = [
    (.preVoteRequest, .preVoteRequest(VoteRequest(term: 41, lastLog: LogPosition(index: 40, term: 40)))),
    (.preVoteResponse, .preVoteResponse(VoteResponse(term: 41, granted: true))),
    (.voteRequest, .voteRequest(VoteRequest(term: 41, lastLog: LogPosition(index: 40, term: 40), isTransfer: true))),
    (.voteResponse, .voteResponse(VoteResponse(term: 41, granted: false))),
    (.heartbeat, .heartbeat(Heartbeat(term: 41, sequence: 123_456, leaderLog: LogPosition(index: 41, term: 41), transferTarget: 3))),
    (.heartbeatResponse, .heartbeatResponse(HeartbeatResponse(term: 41, sequence: 123_456, lastLog: LogPosition(index: 41, term: 41)))),
    (.timeoutNow, .timeoutNow(TimeoutNow(term: 41))),
]

/// Keeps the optimizer from deleting a benchmark loop.
@inline(never) func consume(_ value: Int) {
    if value == Int.min { print("") }
}

/// Runs `body` and returns (seconds, heap allocations) it took.
func measure(_ body: () -> Void) -> (seconds: Double, allocations: UInt64) {
    let clock = ContinuousClock()
    let allocationsBefore = ballot_allocation_count()
    let start = clock.now
    body()
    let elapsed = clock.now - start
    let allocations = ballot_allocation_count() - allocationsBefore
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, allocations)
}

func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func fixed(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return decimals == 0 ? String(Int(rounded)) : String(rounded)
}

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1_000_000
print("ballot wire codec: \(iterations) messages per loop (build with -c release for meaningful rates)")
print(padded("type", 20) + padded("bytes", 7) + padded("encode ns", 11) + padded("encode msg/s", 14)
      + padded("decode ns", 11) + padded("decode msg/s", 14) + padded("allocs/enc", 12) + "allocs/dec")
for (kind, message) in samples {
    let frame = PeerFrame.message(message)
    let bytes = FrameEncoder.encode(frame)
    let encode = measure { for _ in 0..<iterations { consume(FrameEncoder.encode(frame).count) } }
    // Decoding streams a buffer of 1,000 back-to-back frames through one decoder per round.
    var stream: [UInt8] = []
    for _ in 0..<1_000 { stream += bytes }
    let rounds = max(1, iterations / 1_000)
    let decode = measure {
        for _ in 0..<rounds {
            var decoder = FrameDecoder()
            decoder.append(stream)
            while let decoded = try? decoder.nextFrame() { consume(decoded == frame ? 1 : 0) }
        }
    }
    let decoded = rounds * 1_000
    let encodeNs = encode.seconds / Double(iterations) * 1e9
    let decodeNs = decode.seconds / Double(decoded) * 1e9
    print(padded(kind.rawValue, 20) + padded(String(bytes.count), 7) + padded(fixed(encodeNs, 1), 11)
          + padded(fixed(1e9 / encodeNs, 0), 14) + padded(fixed(decodeNs, 1), 11) + padded(fixed(1e9 / decodeNs, 0), 14)
          + padded(fixed(Double(encode.allocations) / Double(iterations), 2), 12)
          + fixed(Double(decode.allocations) / Double(decoded), 3))
}

// The same heartbeat, sealed and opened by mutual TLS as between two nodes (--peer-tls-*).
do {
    try TLSCost.run(iterations: max(1, iterations / 10))
} catch {
    print("the TLS row could not run: \(error)")
}
