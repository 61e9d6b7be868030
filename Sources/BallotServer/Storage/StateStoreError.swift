import BallotCore

/// Why the durable state cannot be read or written. Each message names the file, says what is
/// wrong with it and what to do; none of these is ever answered by resetting the state.
public enum StateStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file does not start with the magic bytes `BALLOTHS`.
    case notAStateFile(path: String)
    /// The file ends before its header says it should.
    case truncated(path: String, size: Int, expectedSize: Int)
    /// The stored CRC-32 does not match the bytes before it.
    case checksumMismatch(path: String, stored: UInt32, computed: UInt32)
    /// A format version this build does not read (written by a newer Ballot, most likely).
    case unsupportedVersion(path: String, version: UInt16)
    /// Checksummed, but its contents make no sense (e.g. a length that does not add up).
    case corrupt(path: String, detail: String)
    /// The file belongs to another cluster.
    case foreignCluster(path: String, found: String, expected: ClusterName)
    /// The file belongs to another node.
    case foreignNode(path: String, found: UInt64, expected: NodeID)
    /// Another process holds the data directory's lock; `holder` is its PID when it wrote one.
    case locked(directory: String, holder: Int32?)
    /// A system call failed.
    case io(SystemCallError)

    public var description: String {
        switch self {
        case .notAStateFile(let path):
            "\(path) is not a Ballot state file (it does not begin with \"\(StateFileKind(path: path).magic)\"). "
                + Self.recovery(path)
        case .truncated(let path, let size, let expectedSize):
            "\(path) is truncated: it has \(size) bytes but needs \(size < ChecksummedFile.minimumSize ? "at least " : "")"
                + "\(expectedSize). \(Self.recovery(path))"
        case .checksumMismatch(let path, let stored, let computed):
            "\(path) is corrupt: its checksum is \(hex(stored)) but its contents sum to \(hex(computed)). "
                + Self.recovery(path)
        case .unsupportedVersion(let path, let version):
            "\(path) has state-file format version \(version), but this build of Ballot reads only version "
                + "\(StateFileKind(path: path).currentVersion); run the Ballot release that wrote it (or a newer one). "
                + StateFileKind(path: path).keepAdvice
        case .corrupt(let path, let detail):
            "\(path) is corrupt: \(detail). \(Self.recovery(path))"
        case .foreignCluster(let path, let found, let expected):
            "\(path) belongs to cluster \"\(found)\", but this node is configured for cluster \"\(expected)\"; "
                + "check --cluster and --data-dir (every node needs its own data directory)"
        case .foreignNode(let path, let found, let expected):
            "\(path) belongs to node \(found), but this node is node \(expected); "
                + "check --id and --data-dir (every node needs its own data directory)"
        case .locked(let directory, let holder):
            "data directory \(directory) is in use by another Ballot process"
                + (holder.map { " (pid \($0))" } ?? "")
                + "; stop that process, or give this node its own --data-dir"
        case .io(let error):
            "\(error); check the disk, free space and permissions of the data directory"
        }
    }

    /// What to do with a state file that cannot be trusted.
    static func recovery(_ path: String) -> String {
        switch StateFileKind(path: path) {
        case .hardState:
            "Ballot will not start from it, because forgetting a vote could let two leaders win one term. "
                + "Restore \(path) from a backup; or, if this node's state may be discarded, remove the file and "
                + "let the node rejoin once the cluster's term has moved past the last term this node used "
                + "(see docs/configuration.md, \"Recovering a node's state\")."
        case .candidacy:
            "Ballot will not start from it, because guessing could let a node that was made ineligible lead. "
                + "Restore \(path) from a backup, or remove it: the node then starts eligible, and "
                + "PUT /candidacy {\"eligible\": false} makes it ineligible again (see docs/applications.md)."
        }
    }
}

/// Which state file a path names, for messages that depend on what the file holds.
enum StateFileKind {
    case hardState
    case candidacy

    init(path: String) {
        self = path.hasSuffix("/" + CandidacyStore.fileName) || path == CandidacyStore.fileName ? .candidacy : .hardState
    }

    var magic: String {
        switch self {
        case .hardState: String(decoding: HardStateFile.magic, as: UTF8.self)
        case .candidacy: String(decoding: CandidacyFile.magic, as: UTF8.self)
        }
    }

    var currentVersion: UInt16 {
        switch self {
        case .hardState: HardStateFile.currentVersion
        case .candidacy: CandidacyFile.currentVersion
        }
    }

    var keepAdvice: String {
        switch self {
        case .hardState: "Do not remove the file: it holds this node's term and vote."
        case .candidacy: "Removing the file makes the node eligible to lead again."
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: false)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
