/// How log records are written to standard error (`log_format`).
public enum LogFormat: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// For people: `2025-01-31T12:00:00.123Z notice [node 1] leader elected leader=2 term=7`.
    case text
    /// One JSON object per line: `{"ts":"…","level":"notice","msg":"leader elected","node":"1",…}`.
    case json
    /// One logfmt line per record: `ts=… level=notice msg="leader elected" node=1 …`.
    case logfmt

    public var description: String { rawValue }
}
