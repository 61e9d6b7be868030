import Foundation
import Glibc

/// The repository root, for the scripts and manifests under test.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Where the artefacts of this run go: `.build/packages/`, kept for inspection after the tests.
let packagesDirectory = repositoryRoot + "/.build/packages"

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// The result of one command.
struct CommandResult: Sendable {
    var status: Int32
    var output: String
    var error: String
    var combined: String { output + error }
}

/// Runs a command to completion, bounded by `timeout` (then killed and reported).
///
/// Spawned and reaped here with posix_spawn and waitpid, with output through files: Foundation's
/// `Process` never noticed `podman run -d` exit (it stayed a zombie and `isRunning` true), and a
/// command that leaves a process behind (conmon) would hold a pipe open forever.
func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    timeout: Duration = .seconds(120)
) async throws -> CommandResult {
    let scratch = NSTemporaryDirectory() + "ballot-packaging-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    defer {
        try? FileManager.default.removeItem(atPath: scratch + ".out")
        try? FileManager.default.removeItem(atPath: scratch + ".err")
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, scratch + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, scratch + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
    var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    var envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, executable, &actions, nil, &argv, &envp)
    guard spawned == 0 else {
        throw CommandFailure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
    }
    var status: Int32 = 0
    let deadline = ContinuousClock.now + timeout
    while waitpid(pid, &status, WNOHANG) == 0 {
        guard ContinuousClock.now < deadline else {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            throw CommandFailure(description: "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    let text = (try? String(contentsOfFile: scratch + ".out", encoding: .utf8)) ?? ""
    let errorText = (try? String(contentsOfFile: scratch + ".err", encoding: .utf8)) ?? ""
    return CommandResult(status: exitStatus, output: text, error: errorText)
}

/// Runs a command that must succeed; its output on failure.
@discardableResult
func succeed(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    timeout: Duration = .seconds(120)
) async throws -> String {
    let result = try await run(executable, arguments, environment: environment, timeout: timeout)
    guard result.status == 0 else {
        throw CommandFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(result.status):\n"
            + result.combined.suffix(4000))
    }
    return result.output
}

/// The commit this checkout is at.
func gitRevision() async throws -> String {
    try await succeed("git", ["-C", repositoryRoot, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
}

func isExecutable(_ name: String) -> Bool {
    ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/"].contains {
        FileManager.default.isExecutableFile(atPath: $0 + name)
    } || (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
}

/// A free TCP port on 127.0.0.1 (bind to port 0 and read it back).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
