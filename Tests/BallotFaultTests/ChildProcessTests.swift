import BallotClient
import BallotHarness
import Glibc
import Testing

/// The harness's launcher on real processes: what a child prints and how it ended reach the
/// caller, a bounded wait stays bounded, every child is reaped, and no descriptor leaks into one.
@Suite struct ChildProcessTests {
    @Test func outputErrorAndExitStatusReachTheCaller() async throws {
        let child = try ChildProcess("/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"], output: .pipe, error: .pipe)
        async let output = child.standardOutput?.readTextInBackground()
        async let error = child.standardError?.readTextInBackground()
        #expect(await child.waitForExit(timeout: .seconds(10)) == .exited(3))
        #expect(await output == "out\n")
        #expect(await error == "err\n")
        #expect(!child.isRunning)
    }

    @Test func aChildKilledBySIGKILLReportsTheSignal() async throws {
        let child = try ChildProcess("/bin/sleep", arguments: ["5"])
        #expect(child.signal(SIGKILL))
        #expect(await child.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))
    }

    @Test func aBoundedWaitReturnsNilThenTheKilledChildIsReaped() async throws {
        let child = try ChildProcess("/bin/sleep", arguments: ["5"])
        let started = ContinuousClock.now
        #expect(await child.waitForExit(timeout: .milliseconds(200)) == nil)
        #expect(ContinuousClock.now - started < .seconds(3), "the wait outlasted its timeout")
        #expect(child.isRunning)
        #expect(child.signal(SIGKILL))
        #expect(await child.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))
        // Reaped: the PID no longer names a process (not even a zombie), and is not signalled again.
        #expect(kill(child.pid, 0) == -1 && errno == ESRCH)
        #expect(!child.signal(SIGKILL))
        #expect(child.waitForExitBlocking(timeout: .seconds(1)) == .signalled(SIGKILL))
    }

    @Test func aMissingExecutableThrowsAClearError() {
        let error = #expect(throws: ProcessSpawn.Failure.self) {
            _ = try ChildProcess("/nonexistent/ballot-no-such-program")
        }
        #expect(error?.errno == ENOENT)
        #expect(error?.description.hasPrefix("/nonexistent/ballot-no-such-program: not found") == true, "\(String(describing: error))")
    }

    @Test func theParentsDescriptorsAreNotInherited() async throws {
        // A descriptor without close-on-exec, at a number no child would open on its own.
        let null = open("/dev/null", O_RDONLY)
        try #require(null >= 0)
        let leaked = fcntl(null, F_DUPFD, 100)
        close(null)
        try #require(leaked >= 100)
        defer { close(leaked) }
        let child = try ChildProcess("/bin/sh", arguments: ["-c", "ls /proc/self/fd"], output: .pipe)
        let listing = await child.standardOutput?.readTextInBackground() ?? ""
        #expect(await child.waitForExit(timeout: .seconds(10)) == .exited(0))
        let descriptors = Set(listing.split(separator: "\n").compactMap { Int32($0) })
        #expect(descriptors.isSuperset(of: [0, 1, 2]), "\(listing)")
        // Beyond standard input, output and error, only the one `ls` opened to read the directory.
        #expect(descriptors.subtracting([0, 1, 2]).count <= 1, "\(listing)")
        #expect(!descriptors.contains(leaked), "\(listing)")
    }

    @Test func standardInputWorkingDirectoryAndEnvironment() async throws {
        let child = try ChildProcess(
            "/bin/sh", arguments: ["-c", "cat; pwd; echo \"$BALLOT_CHILD_TEST\" >&2"], environment: ["BALLOT_CHILD_TEST": "set"],
            directory: "/tmp", input: .pipe, output: .pipe, error: .standardOutput)
        try child.standardInput?.write("from stdin\n".utf8)
        child.standardInput?.close()
        let output = await child.standardOutput?.readTextInBackground()
        #expect(await child.waitForExit(timeout: .seconds(10)) == .exited(0))
        #expect(output == "from stdin\n/tmp\nset\n")
    }
}
