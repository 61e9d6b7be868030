#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BallotCore

/// The byte layout of the `candidacy` file: the ``ChecksummedFile`` envelope with magic
/// "BALLOTCD", format version 1, and a body of the ``StateFileIdentity`` followed by one byte,
/// `eligible` (0 or 1). No file means eligible.
enum CandidacyFile {
    static let magic = Array("BALLOTCD".utf8)
    static let currentVersion: UInt16 = 1

    static func encode(eligible: Bool, cluster: ClusterName, node: NodeID) -> [UInt8] {
        var body = StateFileIdentity.encode(cluster: cluster, node: node)
        body.append(eligible ? 1 : 0)
        return ChecksummedFile.encode(magic: magic, version: currentVersion, body: body)
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StateStoreError) -> (node: UInt64, cluster: String, eligible: Bool) {
        let body = try ChecksummedFile.decode(bytes, magic: magic, version: currentVersion, path: path)
        let identity = try StateFileIdentity.decode(body, fieldsSize: 1, path: path)
        switch body[identity.fieldsOffset] {
        case 0: return (identity.node, identity.cluster, false)
        case 1: return (identity.node, identity.cluster, true)
        case let value: throw .corrupt(path: path, detail: "its eligible byte is \(value), not 0 or 1")
        }
    }
}

/// Whether this node may lead, kept in `<data-dir>/candidacy` across restarts (issue 15:
/// `PUT /candidacy`), next to the hard state and under the same directory lock.
///
/// Written like the hard state — temporary file, fsync, rename, fsync of the directory — before the
/// node acts on a change, so a node made ineligible stays so after a crash. A file that cannot be
/// trusted stops start-up with a message naming it; it is never guessed at.
public final class CandidacyStore: Sendable {
    public static let fileName = "candidacy"
    /// Temporary files are `candidacy.tmp-<random>`; any left at open are from a crash mid-save.
    public static let temporaryFilePrefix = "candidacy.tmp-"

    public let directory: String
    /// `<directory>/candidacy`.
    public let path: String
    public let cluster: ClusterName
    public let node: NodeID
    /// What the file held at open; `true` (eligible) without a file.
    public let recoveredEligible: Bool

    /// Opens the candidacy kept beside `store`, whose directory lock covers it too.
    public init(beside store: HardStateStore) throws(StateStoreError) {
        directory = store.directory
        path = FileSystem.join(store.directory, Self.fileName)
        cluster = store.cluster
        node = store.node
        do throws(SystemCallError) {
            try FileSystem.removeFiles(in: directory, prefixed: Self.temporaryFilePrefix)
        } catch {
            throw .io(error)
        }
        recoveredEligible = try Self.read(path: path, cluster: cluster, node: node)
    }

    /// Reads the file again.
    public func load() throws(StateStoreError) -> Bool {
        try Self.read(path: path, cluster: cluster, node: node)
    }

    /// Makes `eligible` durable; when it throws, the previous setting is still the stored one.
    public func save(eligible: Bool) throws(StateStoreError) {
        let bytes = CandidacyFile.encode(eligible: eligible, cluster: cluster, node: node)
        do throws(SystemCallError) {
            try FileSystem.replaceDurably(path, in: directory, temporaryPrefix: Self.temporaryFilePrefix, with: bytes)
        } catch {
            throw .io(error)
        }
    }

    private static func read(path: String, cluster: ClusterName, node: NodeID) throws(StateStoreError) -> Bool {
        let contents: [UInt8]?
        do throws(SystemCallError) {
            contents = try FileSystem.readFileIfPresent(path, limit: ChecksummedFile.maximumSize)
        } catch {
            throw .io(error)
        }
        guard let bytes = contents else { return true }
        guard bytes.count <= ChecksummedFile.maximumSize else {
            throw .corrupt(path: path, detail: "it is larger than \(ChecksummedFile.maximumSize) bytes")
        }
        let decoded = try CandidacyFile.decode(bytes, path: path)
        try StateFileIdentity.check(cluster: decoded.cluster, node: decoded.node, against: cluster, node: node, path: path)
        return decoded.eligible
    }
}
