#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The standard `process_*` figures, read from `/proc` the way Prometheus client libraries do.
///
/// Each read is a handful of small syscalls and never blocks on anything but the kernel. Where
/// `/proc` is missing (not Linux) the readings are `nil` and the series keep their last value.
struct ProcessSample: Equatable, Sendable {
    var cpuSeconds: Double?
    var residentBytes: Double?
    var virtualBytes: Double?
    var openFDs: Double?
    var maxFDs: Double?
}

enum ProcessSampler {
    /// Reads CPU time and memory from `/proc/self/stat`, descriptors from `/proc/self/fd` and the
    /// descriptor limit from `getrlimit`.
    static func sample() -> ProcessSample {
        var sample = ProcessSample()
        if let fields = statFields() {
            let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
            let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
            if let user = fields.number(at: StatField.userTime), let system = fields.number(at: StatField.systemTime),
                ticksPerSecond > 0
            {
                sample.cpuSeconds = (user + system) / ticksPerSecond
            }
            sample.virtualBytes = fields.number(at: StatField.virtualSize)
            if let pages = fields.number(at: StatField.residentPages), pageSize > 0 {
                sample.residentBytes = pages * pageSize
            }
        }
        sample.openFDs = openDescriptorCount().map { Double($0) }
        var limit = rlimit()
        if getrlimit(resourceLimitOpenFiles, &limit) == 0 {
            sample.maxFDs = Double(limit.rlim_cur)
        }
        return sample
    }

    /// Process start as Unix seconds: boot time (`btime` in `/proc/stat`) plus the start tick in
    /// `/proc/self/stat`. Constant for the life of the process, so read once.
    static func startTime() -> Double? {
        guard let fields = statFields(), let startTicks = fields.number(at: StatField.startTime),
            let bootTime = bootTime()
        else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticksPerSecond > 0 else { return nil }
        return bootTime + startTicks / ticksPerSecond
    }

    /// Positions in the fields of `/proc/self/stat` after the `(comm)` field, counted from 0 at the
    /// state field (proc(5) numbers these fields from 1, with state as field 3).
    private enum StatField {
        static let userTime = 14 - 3
        static let systemTime = 15 - 3
        static let startTime = 22 - 3
        static let virtualSize = 23 - 3
        static let residentPages = 24 - 3
    }

    private struct StatFields {
        let fields: [Substring]

        func number(at index: Int) -> Double? {
            guard index < fields.count, let value = UInt64(fields[index]) else { return nil }
            return Double(value)
        }
    }

    /// The space-separated fields after the command name, which may itself hold spaces and
    /// parentheses; hence the split at the last `)`.
    private static func statFields() -> StatFields? {
        guard let bytes = readFile("/proc/self/stat"), let close = bytes.lastIndex(of: UInt8(ascii: ")")) else {
            return nil
        }
        let rest = String(decoding: bytes[(close + 1)...], as: UTF8.self)
        return StatFields(fields: rest.split(whereSeparator: { $0 == " " || $0 == "\n" }))
    }

    private static func bootTime() -> Double? {
        guard let bytes = readFile("/proc/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return UInt64(line.dropFirst("btime ".count).trimmingSpaces()).map { Double($0) }
        }
        return nil
    }

    /// Entries of `/proc/self/fd`, less the descriptor this very listing holds open.
    private static func openDescriptorCount() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDotEntry = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".")
            }
            if !isDotEntry { count += 1 }
        }
        return max(count - 1, 0)
    }

    /// Reads a whole (small) file with plain syscalls; `nil` if it cannot be opened or read.
    private static func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count < limit {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[..<count])
        }
        return result
    }

    #if canImport(Glibc)
    private static let resourceLimitOpenFiles = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceLimitOpenFiles = RLIMIT_NOFILE
    #endif
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " || result.last == "\r" { result = result.dropLast() }
        return result
    }
}
