import BallotServer
import Foundation

/// How the node commands end, so that a supervisor can tell what happened (the systemd unit does
/// not restart on ``configuration`` or ``usage``: restarting cannot fix them).
public enum ExitStatus: Int32, Sendable {
    /// The node could not run: a port in use, an unreadable state file, a halt.
    case failure = 1
    /// A malformed command line (an unknown flag, a missing value), as reported by the argument
    /// parser: sysexits.h's EX_USAGE.
    case usage = 64
    /// A configuration that does not make a working node: a bad value in a flag, a `BALLOT_*`
    /// variable or the file, a missing setting, an unusable data directory, unusable peer
    /// credentials (a certificate, key, CA or cluster secret file). sysexits.h's EX_CONFIG.
    case configuration = 78
}

/// How the commands end on bad input: one line on standard error, no stack trace.
public enum CommandLineErrors {
    /// Prints a precise error to standard error and exits with status 2 (bad input).
    public static func fail(_ message: String, code: Int32 = 2) -> Never {
        var stderr = StandardError()
        print("error: \(message)", to: &stderr)
        Foundation.exit(code)
    }

    /// Prints `message` as one record in the node's log format (`error: …` in the text format,
    /// a `level=critical` record in json and logfmt, so that collectors see it) and exits with `status`.
    public static func fail(_ message: String, status: ExitStatus, format: LogFormat = .text) -> Never {
        switch format {
        case .text:
            var stderr = StandardError()
            print("error: \(message)", to: &stderr)
        case .json, .logfmt:
            let event = status == .configuration ? "configuration_error" : "start_failed"
            let record = LogRecord(timestamp: .now, level: .critical, message: message, metadata: ["event": .string(event)])
            LogSink.standardError.write(record.line(format))
        }
        Foundation.exit(status.rawValue)
    }
}

/// Standard error as a `print(_:to:)` target.
public struct StandardError: TextOutputStream {
    public init() {}

    public mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
