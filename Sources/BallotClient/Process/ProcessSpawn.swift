import CProcessSupport
import Glibc

/// Starts a process with `posix_spawn`: no `fork` in a multi-threaded process, every descriptor the
/// caller does not hand over closed, signal dispositions and mask reset to the defaults (a keeper
/// that ignores SIGTERM must not pass that on), optionally in a process group of its own.
public enum ProcessSpawn {
    public struct Request: Sendable {
        /// Looked up in `PATH` when it has no `/`.
        public var executable: String
        /// `argv`, the program name first.
        public var arguments: [String]
        /// `NAME=value` entries.
        public var environment: [String]
        /// A new process group whose ID is the child's PID (so `kill(-pid, …)` reaches the child and
        /// everything it starts).
        public var newProcessGroup = false
        /// Descriptors to place in the child: `source` becomes `target`. Every other descriptor from 3
        /// up is closed in the child.
        public var descriptors: [(source: Int32, target: Int32)] = []
        /// The directory the child starts in (nil: this process's).
        public var directory: String?

        public init(executable: String, arguments: [String], environment: [String]) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var errno: Int32
        public var executable: String

        public var description: String {
            let reason = String(cString: strerror(errno))
            switch errno {
            case ENOENT: return "\(executable): not found (\(reason)); give a path or put it on PATH"
            case EACCES: return "\(executable): not executable (\(reason))"
            default: return "\(executable): cannot start (\(reason))"
            }
        }
    }

    /// Starts the process and returns its PID.
    public static func spawn(_ request: Request) throws(Failure) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if request.newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in 1..<Int32(32) where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (source, target) in request.descriptors {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
        let lowestClosed = (request.descriptors.map(\.target).max() ?? 2) + 1
        ballot_spawn_close_from(&actions, max(3, lowestClosed))
        if let directory = request.directory { ballot_spawn_chdir(&actions, directory) }

        var pid = pid_t()
        let status = withCStrings(request.arguments) { argv in
            withCStrings(request.environment) { envp in
                posix_spawnp(&pid, request.executable, &actions, &attributes, argv, envp)
            }
        }
        guard status == 0 else { throw Failure(errno: status, executable: request.executable) }
        return pid
    }

    /// This process's environment with the `NAME=value` entries of `overrides` replacing (or
    /// adding to) those of the same name.
    public static func inheritedEnvironment(overriding overrides: [String] = []) -> [String] {
        let names = Set(overrides.map { String($0.prefix { $0 != "=" }) })
        var inherited: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if !names.contains(String(text.prefix { $0 != "=" })) { inherited.append(text) }
            cursor += 1
        }
        return inherited + overrides
    }

    /// Waits for `pid` to end (blocking, retried on EINTR); `nil` if it is not our child.
    public static func wait(_ pid: pid_t) -> ChildExit? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, 0)
            if result == pid { return decode(status) }
            if result == -1 && errno == EINTR { continue }
            return nil
        }
    }

    /// The `ChildExit` of a `waitpid` status.
    public static func decode(_ status: Int32) -> ChildExit {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
    }
}

/// Calls `body` with a NULL-terminated `char *[]` of `strings`, valid only during the call.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return body(pointers + [nil])
}
