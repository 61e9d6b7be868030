import BallotCore

/// The byte layout of the `hard-state` file: the ``ChecksummedFile`` envelope with magic
/// "BALLOTHS", format version 1, and this body (integers big-endian):
///
/// ```text
/// body, format version 1 (L = 41 + N):
/// 0        8     node ID (> 0)
/// 8        1     cluster name length N (1…255)
/// 9        N     cluster name, UTF-8
/// 9+N      8     current term
/// 17+N     8     voted for (0 = nobody)
/// 25+N     8     last log index
/// 33+N     8     last log term
/// ```
enum HardStateFile {
    static let magic = Array("BALLOTHS".utf8)
    static let currentVersion: UInt16 = 1
    /// Version 1 files are at most 314 bytes.
    static let maximumSize = ChecksummedFile.maximumSize
    /// Node ID, name length and four 8-byte fields.
    static let fixedBodySize = 41

    struct Contents: Hashable {
        var node: UInt64
        var cluster: String
        var state: HardState
    }

    static func encode(_ state: HardState, cluster: ClusterName, node: NodeID) -> [UInt8] {
        var body = StateFileIdentity.encode(cluster: cluster, node: node)
        body.appendBigEndian(state.term.rawValue)
        body.appendBigEndian(state.votedFor?.rawValue ?? 0)
        body.appendBigEndian(state.lastLog.index)
        body.appendBigEndian(state.lastLog.term.rawValue)
        return ChecksummedFile.encode(magic: magic, version: currentVersion, body: body)
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StateStoreError) -> Contents {
        let body = try ChecksummedFile.decode(bytes, magic: magic, version: currentVersion, path: path)
        let identity = try StateFileIdentity.decode(body, fieldsSize: fixedBodySize - 9, path: path)
        let fields = identity.fieldsOffset
        let term = body.readBigEndian(UInt64.self, at: fields)
        let vote = body.readBigEndian(UInt64.self, at: fields + 8)
        let lastIndex = body.readBigEndian(UInt64.self, at: fields + 16)
        let lastTerm = body.readBigEndian(UInt64.self, at: fields + 24)
        let state = HardState(
            term: Term(term), votedFor: NodeID(vote), lastLog: LogPosition(index: lastIndex, term: Term(lastTerm)))
        return Contents(node: identity.node, cluster: identity.cluster, state: state)
    }
}

/// Every state file's body begins with whose it is: the node ID and the cluster name, so that a
/// data directory given to the wrong node or cluster is refused rather than used.
///
/// ```text
/// 0        8     node ID (> 0)
/// 8        1     cluster name length N (1…255)
/// 9        N     cluster name, UTF-8
/// 9+N      …     the file kind's fields
/// ```
enum StateFileIdentity {
    static func encode(cluster: ClusterName, node: NodeID) -> [UInt8] {
        let name = Array(cluster.rawValue.utf8)
        var body: [UInt8] = []
        body.appendBigEndian(node.rawValue)
        body.append(UInt8(name.count))
        body += name
        return body
    }

    /// Reads the identity of a body that must hold exactly `fieldsSize` bytes after it.
    static func decode(_ body: [UInt8], fieldsSize: Int, path: String) throws(StateStoreError)
        -> (node: UInt64, cluster: String, fieldsOffset: Int)
    {
        guard body.count > 9 + fieldsSize else {
            throw .corrupt(path: path, detail: "its body of \(body.count) bytes is too short for its format version")
        }
        let node = body.readBigEndian(UInt64.self, at: 0)
        guard node > 0 else { throw .corrupt(path: path, detail: "it names node 0, which is not a node ID") }
        let nameLength = Int(body[8])
        guard body.count == 9 + nameLength + fieldsSize else {
            throw .corrupt(
                path: path,
                detail: "its cluster name of \(nameLength) bytes does not fit its body of \(body.count) bytes")
        }
        guard let cluster = String(validating: body[9..<(9 + nameLength)], as: UTF8.self) else {
            throw .corrupt(path: path, detail: "its cluster name is not UTF-8")
        }
        return (node, cluster, 9 + nameLength)
    }

    /// Refuses a file that belongs to another cluster or node.
    static func check(cluster found: String, node foundNode: UInt64, against cluster: ClusterName, node: NodeID,
                      path: String) throws(StateStoreError) {
        guard found == cluster.rawValue else { throw .foreignCluster(path: path, found: found, expected: cluster) }
        guard foundNode == node.rawValue else { throw .foreignNode(path: path, found: foundNode, expected: node) }
    }
}
