import Foundation
import Glibc

/// Runs short helper commands (`ip`, `nft`, `tc`) with a hard time limit.
public enum Subprocess {
    public struct Result: Sendable {
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        do { try ProcessLaunch.run(process) } catch {
            return Result(status: -1, output: "", error: "\(first): \(error)")
        }
        // Read both pipes on their own threads so a chatty command cannot block on a full pipe.
        let outBox = DataBox()
        let errBox = DataBox()
        let readers = DispatchGroup()
        for (pipe, box) in [(output, outBox), (error, errBox)] {
            readers.enter()
            Thread.detachNewThread {
                box.set(pipe.fileHandleForReading.readDataToEndOfFile())
                readers.leave()
            }
        }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            _ = readers.wait(timeout: .now() + 2)
            return Result(status: -1, output: outBox.text, error: "timed out after \(timeout): \(arguments.joined(separator: " "))")
        }
        _ = readers.wait(timeout: .now() + 2)
        return Result(status: process.terminationStatus, output: outBox.text, error: errBox.text)
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

/// Starts child processes one at a time. Foundation's `Process.run()` on Linux crashed here
/// (a bad pointer in its launch path) when several threads launched processes at once, so every
/// launch in the harness goes through this lock; only the launch is serialized, not the wait.
enum ProcessLaunch {
    private static let lock = NSLock()

    static func run(_ process: Process) throws {
        try lock.withLock { try process.run() }
    }
}

/// A value written once by a reader thread and read after it finished.
private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
