#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The node's swift-log handler: every record as one line in the configured ``LogFormat``, written
/// to standard error with a single write(2), so that lines of concurrent writers never interleave
/// and a collector never sees half a record.
public struct BallotLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata
    public var metadataProvider: Logger.MetadataProvider?
    public let format: LogFormat
    private let sink: LogSink

    public init(format: LogFormat, level: Logger.Level, metadata: Logger.Metadata = [:], sink: LogSink = .standardError) {
        self.format = format
        self.logLevel = level
        self.metadata = metadata
        self.sink = sink
    }

    /// A logger for node `node` writing `format` at `level`; `node` is on every record.
    public static func logger(label: String = "ballot", format: LogFormat, level: Logger.Level, node: String?) -> Logger {
        var logger = Logger(label: label) { _ in
            BallotLogHandler(format: format, level: level, metadata: node.map { ["node": .string($0)] } ?? [:])
        }
        logger.logLevel = level
        return logger
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        let record = LogRecord(timestamp: .now, level: event.level, message: event.message.description, metadata: merged)
        sink.write(record.line(format))
    }
}

/// Where log lines go: a file descriptor, one write(2) per line.
public final class LogSink: Sendable {
    let descriptor: Int32

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    public static let standardError = LogSink(descriptor: STDERR_FILENO)

    /// Writes `line` and a newline. A line longer than a pipe's atomic size may be split by the
    /// kernel between readers, never interleaved with another writer's line by this process.
    public func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // Nowhere to report a failing log; drop the rest of the line.
                }
            }
        }
    }
}
