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

/// Runs a command to completion, bounded by `timeout` (then killed and reported), in `directory`.
func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    in directory: String = repositoryRoot, timeout: Duration = .seconds(120)
) async throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    async let out = output.fileHandleForReading.readToEnd()
    async let err = error.fileHandleForReading.readToEnd()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    if process.isRunning {
        kill(-process.processIdentifier, SIGKILL)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw CommandFailure(description: "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
    }
    return CommandResult(
        status: process.terminationStatus, output: String(decoding: (try await out) ?? Data(), as: UTF8.self),
        error: String(decoding: (try await err) ?? Data(), as: UTF8.self))
}

/// Runs a command that must succeed; its output on failure.
@discardableResult
func succeed(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    in directory: String = repositoryRoot, timeout: Duration = .seconds(120)
) async throws -> String {
    let result = try await run(executable, arguments, environment: environment, in: directory, timeout: timeout)
    guard result.status == 0 else {
        throw CommandFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(result.status):\n"
            + result.combined.suffix(4000))
    }
    return result.output
}

/// The commit this checkout is at.
func gitRevision() async throws -> String {
    try await succeed("git", ["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
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
