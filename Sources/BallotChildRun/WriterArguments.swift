/// The flags of `ballot-writer`, parsed by hand: the writer links no argument parser (nor Foundation,
/// nor NIO), so that it starts within a millisecond or two of its exec — the hand-over gaps the
/// sidecar suite and `ballot bench lock` measure include that start-up.
///
///     ballot-writer --record DIR [--node N] [--term-variable NAME] [--ignore-sigterm] [--for DURATION]
///
/// `--node` defaults to `BALLOT_NODE_ID` (set by `ballot run`); the term is read from the
/// environment variable `--term-variable` names (default `BALLOT_TERM`, set by `ballot run`;
/// `ETCD_LOCK_REV` under `etcdctl lock`). `--for` (default 60m) takes a whole number and a unit,
/// `ms`, `s` or `m` (`1ms`, `250ms`, `2s`, `60m`): the whole-number part of the node's duration
/// notation. Options take their value as the next argument or after `=` (`--for=2s`).
public struct WriterArguments: Sendable, Equatable {
    /// Directory for the record file.
    public var record: String
    public var node: UInt64
    /// The term (or fencing token) the writer runs under.
    public var term: UInt64
    /// Ignore SIGTERM (the worst case: only SIGKILL stops it).
    public var ignoreTerminate: Bool
    /// Stop recording after this long.
    public var limit: Duration

    public static let usage = """
        usage: ballot-writer --record DIR [--node N] [--term-variable NAME] [--ignore-sigterm] [--for DURATION]
          Records on CLOCK_MONOTONIC when this process runs and under which term, about every millisecond,
          in DIR/child-<pid>-<first>.rec (the sidecar fault suite's and `ballot bench lock`'s leader-only writer).
          --record DIR          directory for the record file (required)
          --node N              node label (default: BALLOT_NODE_ID)
          --term-variable NAME  environment variable holding the term or fencing token (default: BALLOT_TERM)
          --ignore-sigterm      ignore SIGTERM: only SIGKILL stops it
          --for DURATION        stop recording after this long: 1ms, 250ms, 2s, 60m (default: 60m)
        """

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unknownFlag(String)
        case missingValue(flag: String)
        case unexpectedValue(flag: String)
        case repeated(flag: String)
        case missingRecord
        case invalidNode(String)
        case invalidNodeVariable(String)
        case noNode
        case invalidTerm(variable: String, value: String?)
        case invalidDuration(String)

        public var description: String {
            switch self {
            case .unknownFlag(let flag): "unknown argument '\(flag)'"
            case .missingValue(let flag): "\(flag) needs a value"
            case .unexpectedValue(let flag): "\(flag) takes no value"
            case .repeated(let flag): "\(flag) given more than once"
            case .missingRecord: "--record DIR is required"
            case .invalidNode(let text): "--node '\(text)' is not a node number"
            case .invalidNodeVariable(let text): "BALLOT_NODE_ID '\(text)' is not a node number; give --node"
            case .noNode: "no node: give --node or run under ballot run (BALLOT_NODE_ID)"
            case .invalidTerm(let variable, nil): "\(variable) is not set (it should hold the term or fencing token)"
            case .invalidTerm(let variable, let value?): "\(variable) is '\(value)', not a term"
            case .invalidDuration(let text):
                "--for '\(text)' is not a duration: a whole number and ms, s or m, above zero (1ms, 250ms, 2s, 60m)"
            }
        }
    }

    public init(record: String, node: UInt64, term: UInt64, ignoreTerminate: Bool = false,
                limit: Duration = .seconds(3600)) {
        self.record = record
        self.node = node
        self.term = term
        self.ignoreTerminate = ignoreTerminate
        self.limit = limit
    }

    /// Whether `arguments` ask for ``usage`` (`--help` or `-h`), which the parser does not take.
    public static func asksForHelp(_ arguments: [String]) -> Bool {
        arguments.contains { $0 == "--help" || $0 == "-h" }
    }

    /// Parses `arguments` (without the program name); `environment` looks up a variable.
    public init(parsing arguments: [String], environment: (String) -> String?) throws(Problem) {
        var values: [String: String] = [:]
        var ignoreTerminate = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let (flag, inline) = Self.split(argument)
            switch flag {
            case "--ignore-sigterm":
                guard inline == nil else { throw .unexpectedValue(flag: flag) }
                guard !ignoreTerminate else { throw .repeated(flag: flag) }
                ignoreTerminate = true
            case "--record", "--node", "--term-variable", "--for":
                guard values[flag] == nil else { throw .repeated(flag: flag) }
                if let inline {
                    values[flag] = inline
                } else {
                    // The value is the next argument, unless there is none or it is another flag.
                    guard index < arguments.count, !arguments[index].hasPrefix("--") else { throw .missingValue(flag: flag) }
                    values[flag] = arguments[index]
                    index += 1
                }
            default:
                throw .unknownFlag(argument)
            }
        }
        guard let record = values["--record"], !record.isEmpty else { throw .missingRecord }
        let node: UInt64
        if let text = values["--node"] {
            guard let value = UInt64(text) else { throw .invalidNode(text) }
            node = value
        } else if let text = environment("BALLOT_NODE_ID") {
            guard let value = UInt64(text) else { throw .invalidNodeVariable(text) }
            node = value
        } else {
            throw .noNode
        }
        let limit: Duration
        if let text = values["--for"] {
            guard let value = Self.duration(text) else { throw .invalidDuration(text) }
            limit = value
        } else {
            limit = .seconds(3600)
        }
        let variable = values["--term-variable"] ?? "BALLOT_TERM"
        let termText = environment(variable)
        guard let termText, let term = UInt64(termText) else { throw .invalidTerm(variable: variable, value: termText) }
        self.init(record: record, node: node, term: term, ignoreTerminate: ignoreTerminate, limit: limit)
    }

    /// `--flag=value` as (`--flag`, `value`); anything else as (argument, nil).
    static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// `DIGITS UNIT` with UNIT `ms`, `s` or `m`, above zero and within an `Int64` of nanoseconds; else `nil`.
    public static func duration(_ text: String) -> Duration? {
        let digits = text.utf8.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        let unit = text.utf8.dropFirst(digits.count)
        let nanosecondsPerUnit: Int64
        switch String(decoding: unit, as: UTF8.self) {
        case "ms": nanosecondsPerUnit = 1_000_000
        case "s": nanosecondsPerUnit = 1_000_000_000
        case "m": nanosecondsPerUnit = 60_000_000_000
        default: return nil
        }
        var count: Int64 = 0
        for digit in digits {
            let (times10, overflow) = count.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdding) = times10.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflow, !overflowAdding else { return nil }
            count = sum
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: nanosecondsPerUnit)
        guard !digits.isEmpty, !overflow, total > 0 else { return nil }
        return .nanoseconds(total)
    }
}
