/// Maps the core's logical ticks onto a monotonic clock: tick k is due at `origin + k·tick`.
///
/// The mapping is fixed when logical time starts, so a tick count can always be turned back into
/// an instant — also after ticks were delivered late (a paused process, a timer that slept through
/// quiet ticks). That is what makes a lease expiry tick a deadline on the clock.
public struct LogicalClock: Hashable, Sendable {
    /// The length of one tick.
    public let tick: Duration
    /// The instant tick 0 was due; `nil` until logical time starts.
    public private(set) var origin: MonotonicInstant?
    /// Ticks the core has had so far.
    public private(set) var deliveredTicks: UInt64 = 0

    public init(tick: Duration) {
        precondition(tick > .zero, "a tick must last some time")
        self.tick = tick
    }

    public var isStarted: Bool { origin != nil }

    mutating func start(at instant: MonotonicInstant) {
        origin = instant
    }

    /// The instant at which tick `k` is due (far future for `UInt64.max`); `nil` before the start.
    public func instant(ofTick k: UInt64) -> MonotonicInstant? {
        guard let origin else { return nil }
        let nanos = UInt64(clamping: tick.nanoseconds)
        let (offset, overflow) = nanos.multipliedReportingOverflow(by: k)
        if overflow { return MonotonicInstant(nanoseconds: .max) }
        let (sum, overflowAdding) = origin.nanoseconds.addingReportingOverflow(offset)
        return MonotonicInstant(nanoseconds: overflowAdding ? .max : sum)
    }

    /// How many ticks are due at `now` that the core has not had yet.
    public func ticksDue(at now: MonotonicInstant) -> UInt64 {
        guard let origin, now > origin else { return 0 }
        let due = (now.nanoseconds - origin.nanoseconds) / UInt64(clamping: tick.nanoseconds)
        return due > deliveredTicks ? due - deliveredTicks : 0
    }

    mutating func delivered(_ count: UInt64) {
        deliveredTicks += count
    }

    /// The fewest whole ticks that last at least `duration` (0 for a non-positive one).
    public func ticks(covering duration: Duration) -> UInt64 {
        guard duration > .zero else { return 0 }
        let tickNanos = UInt64(clamping: tick.nanoseconds)
        let nanos = UInt64(clamping: duration.nanoseconds)
        return nanos / tickNanos + (nanos % tickNanos == 0 ? 0 : 1)
    }

    /// `ticks` ticks as a duration.
    public func duration(ofTicks ticks: UInt64) -> Duration {
        tick * Int(clamping: ticks)
    }
}
