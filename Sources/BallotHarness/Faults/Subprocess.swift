import Foundation
import Glibc

/// Runs short helper commands (`ip`, `nft`, `tc`) with a hard time limit.
public enum Subprocess {
    public struct Result: Sendable {
        /// The exit status; 128 + the signal for a command a signal ended (as a shell says); -1 when it
        /// could not start or timed out.
        public var status: Int32
        public var output: String
        public var error: String
        public var succeeded: Bool { status == 0 }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Runs `arguments[0]` (looked up in the usual system directories) and waits at most `timeout`;
    /// a command still running then is killed and reported as failed (status -1).
    @discardableResult
    public static func run(_ arguments: [String], timeout: Duration = .seconds(10)) async -> Result {
        guard let first = arguments.first, let executable = locate(first) else {
            return Result(status: -1, output: "", error: "\(arguments.first ?? "<nothing>"): command not found")
        }
        let process: ChildProcess
        do {
            process = try ChildProcess(executable, arguments: Array(arguments.dropFirst()), output: .pipe, error: .pipe)
        } catch {
            return Result(status: -1, output: "", error: "\(first): \(error)")
        }
        // Read both pipes on their own threads so a chatty command cannot block on a full pipe.
        let outBox = DataBox()
        let errBox = DataBox()
        let readers = DispatchGroup()
        for (pipe, box) in [(process.standardOutput, outBox), (process.standardError, errBox)] {
            guard let pipe else { continue }
            readers.enter()
            Thread.detachNewThread {
                box.set(pipe.readToEnd())
                readers.leave()
            }
        }
        guard let exit = await process.waitForExit(timeout: timeout) else {
            process.signal(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(10))
            _ = readers.wait(timeout: .now() + 2)
            return Result(status: -1, output: outBox.text, error: "timed out after \(timeout): \(arguments.joined(separator: " "))")
        }
        _ = readers.wait(timeout: .now() + 2)
        return Result(status: exit.shellStatus, output: outBox.text, error: errBox.text)
    }

    /// Like ``run(_:timeout:)`` but throws with the command's standard error when it fails.
    @discardableResult
    public static func check(_ arguments: [String], timeout: Duration = .seconds(10)) async throws -> String {
        let result = await run(arguments, timeout: timeout)
        guard result.succeeded else {
            throw Failure(description: "`\(arguments.joined(separator: " "))` failed (\(result.status)): "
                + result.error.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.output
    }

    /// The absolute path of a command in the system directories, or nil.
    public static func locate(_ command: String) -> String? {
        if command.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// A value written once by a reader thread and read after it finished.
private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data: [UInt8] = []
    func set(_ value: [UInt8]) { lock.withLock { data = value } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
