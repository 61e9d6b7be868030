import Glibc

/// CLOCK_MONOTONIC in nanoseconds: the clock every process on this machine shares, and the one
/// `ballot serve --events` stamps its lines with.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
