#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a node driver reads the time. The server reads the machine's clock; the simulator hands
/// each node a virtual clock that runs at that node's own rate.
public protocol MonotonicClock {
    var now: MonotonicInstant { get }
}

/// The machine's `CLOCK_MONOTONIC`: the one place Ballot reads the real monotonic clock.
///
/// It never jumps with wall-clock changes, and it is shared by every process on the machine, so
/// instants from different processes (event lines, lease deadlines, the sidecar's pipe) compare.
public struct SystemMonotonicClock: MonotonicClock, Sendable {
    public init() {}

    public var now: MonotonicInstant { Self.now }

    public static var now: MonotonicInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }
}
