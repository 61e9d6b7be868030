/// A point on the simulator's virtual clock, in microseconds since the simulation began.
public struct VirtualTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microseconds: UInt64

    public init(microseconds: UInt64) { self.microseconds = microseconds }
    public static func milliseconds(_ ms: Double) -> VirtualTime { VirtualTime(microseconds: UInt64(ms * 1000)) }

    public static let zero = VirtualTime(microseconds: 0)

    public var milliseconds: Double { Double(microseconds) / 1000 }

    public static func < (lhs: VirtualTime, rhs: VirtualTime) -> Bool { lhs.microseconds < rhs.microseconds }
    public static func + (lhs: VirtualTime, rhs: UInt64) -> VirtualTime {
        VirtualTime(microseconds: lhs.microseconds + rhs)
    }

    /// `t=1520ms`, or with a fraction when the event is not on a millisecond boundary.
    public var description: String {
        microseconds % 1000 == 0 ? "t=\(microseconds / 1000)ms" : "t=\(formatMilliseconds(milliseconds))ms"
    }
}

func formatMilliseconds(_ ms: Double) -> String {
    let tenths = (ms * 10).rounded()
    return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
}
