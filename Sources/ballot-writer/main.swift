import BallotChildRun
import Glibc

// The sidecar suite's and `ballot bench lock`'s leader-only writer (WriterArguments has the flags).
// A program of its own, linking only BallotChildRun, so that exec to first record takes a millisecond
// or two rather than the ~14 ms of the whole debug `ballot` CLI: every hand-over gap measured
// includes it.

/// Writes `message` to standard error and exits with `status`.
func fail(_ message: String, status: Int32) -> Never {
    let bytes = Array("ballot-writer: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(status)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if WriterArguments.asksForHelp(arguments) {
    print(WriterArguments.usage)
    exit(0)
}
let parsed: WriterArguments
do {
    parsed = try WriterArguments(parsing: arguments) { name in getenv(name).map { String(cString: $0) } }
} catch {
    fail("\(error)\n\(WriterArguments.usage)", status: 2)
}
do {
    try ChildRunRecorder.run(directory: parsed.record, node: parsed.node, term: parsed.term,
                             ignoreTerminate: parsed.ignoreTerminate, limit: parsed.limit)
} catch {
    fail("\(error)", status: 1)
}
