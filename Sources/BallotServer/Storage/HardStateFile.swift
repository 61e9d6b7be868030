import BallotCore

/// The byte layout of the `hard-state` file. All integers are big-endian.
///
/// ```text
/// offset   size  field
/// 0        8     magic "BALLOTHS"
/// 8        2     format version (1)
/// 10       4     body length L
/// 14       L     body (below)
/// 14+L     4     CRC-32 (IEEE) of bytes 0 ..< 14+L
///
/// body, format version 1 (L = 41 + N):
/// 0        8     node ID (> 0)
/// 8        1     cluster name length N (1…255)
/// 9        N     cluster name, UTF-8
/// 9+N      8     current term
/// 17+N     8     voted for (0 = nobody)
/// 25+N     8     last log index
/// 33+N     8     last log term
/// ```
///
/// The checksum sits at a place the header alone determines, so it is verified before the
/// version is trusted: a flipped version byte reads as corruption, not as a newer format.
enum HardStateFile {
    static let magic = Array("BALLOTHS".utf8)
    static let currentVersion: UInt16 = 1
    /// Magic, version and body length.
    static let headerSize = 14
    static let checksumSize = 4
    /// An empty body: no valid file is smaller.
    static let minimumSize = headerSize + checksumSize
    /// Larger files are refused unread; version 1 files are at most 314 bytes.
    static let maximumSize = 1 << 16
    /// Node ID, name length and four 8-byte fields.
    static let fixedBodySize = 41

    struct Contents: Hashable {
        var node: UInt64
        var cluster: String
        var state: HardState
    }

    static func encode(_ state: HardState, cluster: ClusterName, node: NodeID) -> [UInt8] {
        let name = Array(cluster.rawValue.utf8)
        var body: [UInt8] = []
        body.reserveCapacity(fixedBodySize + name.count)
        body.appendBigEndian(node.rawValue)
        body.append(UInt8(name.count))
        body += name
        body.appendBigEndian(state.term.rawValue)
        body.appendBigEndian(state.votedFor?.rawValue ?? 0)
        body.appendBigEndian(state.lastLog.index)
        body.appendBigEndian(state.lastLog.term.rawValue)

        var file = magic
        file.appendBigEndian(currentVersion)
        file.appendBigEndian(UInt32(body.count))
        file += body
        file.appendBigEndian(CRC32.checksum(file))
        return file
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StateStoreError) -> Contents {
        guard bytes.count >= magic.count else {
            // A prefix of the magic is a file cut short; anything else was never ours.
            guard magic.starts(with: bytes) else { throw .notAStateFile(path: path) }
            throw .truncated(path: path, size: bytes.count, expectedSize: minimumSize)
        }
        guard bytes.starts(with: magic) else { throw .notAStateFile(path: path) }
        guard bytes.count >= headerSize else {
            throw .truncated(path: path, size: bytes.count, expectedSize: minimumSize)
        }
        let bodyLength = Int(bytes.readBigEndian(UInt32.self, at: 10))
        guard bodyLength <= maximumSize - minimumSize else {
            throw .corrupt(path: path, detail: "its header gives a body of \(bodyLength) bytes, more than any state file holds")
        }
        let expectedSize = minimumSize + bodyLength
        guard bytes.count >= expectedSize else {
            throw .truncated(path: path, size: bytes.count, expectedSize: expectedSize)
        }
        guard bytes.count == expectedSize else {
            throw .corrupt(path: path, detail: "\(bytes.count - expectedSize) unexpected bytes follow the checksum")
        }
        let checksumOffset = headerSize + bodyLength
        let stored = bytes.readBigEndian(UInt32.self, at: checksumOffset)
        let computed = CRC32.checksum(bytes[0..<checksumOffset])
        guard stored == computed else { throw .checksumMismatch(path: path, stored: stored, computed: computed) }

        let version = bytes.readBigEndian(UInt16.self, at: 8)
        guard version == currentVersion else { throw .unsupportedVersion(path: path, version: version) }
        return try decodeVersion1(bytes[headerSize..<checksumOffset], path: path)
    }

    private static func decodeVersion1(_ body: ArraySlice<UInt8>, path: String) throws(StateStoreError) -> Contents {
        let body = Array(body)
        guard body.count > fixedBodySize else {
            throw .corrupt(path: path, detail: "its body of \(body.count) bytes is too short for format version 1")
        }
        let node = body.readBigEndian(UInt64.self, at: 0)
        guard node > 0 else { throw .corrupt(path: path, detail: "it names node 0, which is not a node ID") }
        let nameLength = Int(body[8])
        guard body.count == fixedBodySize + nameLength else {
            throw .corrupt(
                path: path,
                detail: "its cluster name of \(nameLength) bytes does not fit its body of \(body.count) bytes")
        }
        guard let cluster = String(validating: body[9..<(9 + nameLength)], as: UTF8.self) else {
            throw .corrupt(path: path, detail: "its cluster name is not UTF-8")
        }
        let fields = 9 + nameLength
        let term = body.readBigEndian(UInt64.self, at: fields)
        let vote = body.readBigEndian(UInt64.self, at: fields + 8)
        let lastIndex = body.readBigEndian(UInt64.self, at: fields + 16)
        let lastTerm = body.readBigEndian(UInt64.self, at: fields + 24)
        let state = HardState(
            term: Term(term), votedFor: NodeID(vote), lastLog: LogPosition(index: lastIndex, term: Term(lastTerm)))
        return Contents(node: node, cluster: cluster, state: state)
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var bigEndian = value.bigEndian
        Swift.withUnsafeBytes(of: &bigEndian) { append(contentsOf: $0) }
    }

    /// The caller has checked that `offset + size` is within bounds.
    func readBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        self[offset..<(offset + MemoryLayout<T>.size)].reduce(T.zero) { ($0 << 8) | T($1) }
    }
}
