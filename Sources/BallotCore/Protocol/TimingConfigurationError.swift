/// Why a Bully or Ring configuration cannot work: a duration (in ticks) outside what the
/// algorithm needs. Raft has its own ``RaftConfigurationError``.
public enum TimingConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `setting` is `ticks` long but must be at least `minimum`.
    case tooShort(setting: String, ticks: UInt64, minimum: UInt64)
    /// `setting` must stay below `limitSetting`, e.g. heartbeats well inside the failure timeout.
    case notBelow(setting: String, ticks: UInt64, limitSetting: String, limit: UInt64)

    public var description: String {
        switch self {
        case .tooShort(let setting, let ticks, let minimum):
            "\(setting) of \(ticks) ticks is too short; use at least \(minimum) ticks"
        case .notBelow(let setting, let ticks, let limitSetting, let limit):
            "\(setting) (\(ticks) ticks) must be below \(limitSetting) (\(limit) ticks)"
        }
    }
}
