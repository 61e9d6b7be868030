import BallotClient
import BallotCore
import Foundation
import Glibc

/// One `ballot serve` child process of a local cluster: how to start it, and its live process.
public final class NodeProcess: @unchecked Sendable {
    public let id: NodeID
    public let arguments: [String]
    public let peerPort: Int
    public let httpPort: Int
    public let dataDirectory: String
    private let binary: String
    private let lock = NSLock()
    private var process: ChildProcess?
    /// Called with every `event=…` line the node prints, from a background thread.
    let onLine: @Sendable (NodeID, String) -> Void

    /// A node process to start later; `onLine` gets every line it prints on standard output.
    public init(id: NodeID, binary: String, arguments: [String], peerPort: Int, httpPort: Int, dataDirectory: String,
         onLine: @escaping @Sendable (NodeID, String) -> Void) {
        self.id = id
        self.binary = binary
        self.arguments = arguments
        self.peerPort = peerPort
        self.httpPort = httpPort
        self.dataDirectory = dataDirectory
        self.onLine = onLine
    }

    public var pid: Int32? { lock.withLock { process?.isRunning == true ? process?.pid : nil } }
    public var isRunning: Bool { pid != nil }

    /// Starts the process; its standard output is read line by line, its standard error goes to
    /// `<data-dir>.log` so that a failing test can show what the node said.
    public func start() throws {
        let process = try ChildProcess(binary, arguments: arguments, output: .pipe, error: .file(dataDirectory + ".log"))
        lock.withLock { self.process = process }
        guard let stdout = process.standardOutput else { return }
        let id = self.id
        let onLine = self.onLine
        Thread.detachNewThread {
            stdout.forEachLine { onLine(id, $0) }
        }
    }

    /// Sends a signal to the running process (SIGKILL, SIGSTOP, SIGCONT, SIGTERM…).
    public func signal(_ signal: Int32) {
        lock.withLock { process }?.signal(signal)
    }

    /// Waits (bounded) for the process to exit; returns how it ended, or nil if it is still running.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> ChildExit? {
        guard let process = lock.withLock({ process }) else { return nil }
        return await process.waitForExit(timeout: timeout)
    }

    /// Stops the process: SIGTERM, then SIGKILL if it has not exited within `grace`.
    public func stop(grace: Duration = .seconds(5)) async {
        guard isRunning else { return }
        signal(SIGCONT)
        signal(SIGTERM)
        if await waitForExit(timeout: grace) == nil {
            signal(SIGKILL)
            await waitForExit(timeout: .seconds(5))
        }
    }

    /// What the node wrote to standard error so far.
    public var log: String {
        (try? String(contentsOfFile: dataDirectory + ".log", encoding: .utf8)) ?? ""
    }
}
