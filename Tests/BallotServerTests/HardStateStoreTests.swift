#if canImport(Glibc)
import BallotClient
import Glibc
#endif
import BallotCore
import Foundation
import Testing
@testable import BallotServer

private let cluster = ClusterName.default
private let sample = HardState(term: 7, votedFor: 3, lastLog: LogPosition(index: 12, term: 6))

/// `sample` for node 1 of cluster "ballot", laid out by hand from docs/configuration.md; the
/// checksum was computed independently (zlib's crc32).
private let golden: [UInt8] = [
    0x42, 0x41, 0x4C, 0x4C, 0x4F, 0x54, 0x48, 0x53,  // "BALLOTHS"
    0x00, 0x01,  // version 1
    0x00, 0x00, 0x00, 0x2F,  // body length 47
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // node 1
    0x06, 0x62, 0x61, 0x6C, 0x6C, 0x6F, 0x74,  // "ballot"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,  // term 7
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,  // voted for 3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C,  // last log index 12
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,  // last log term 6
    0x43, 0xE6, 0x29, 0x54,  // CRC-32
]

private func openStore(_ directory: String, node: NodeID = 1, cluster: ClusterName = cluster) throws(StateStoreError) -> HardStateStore {
    try HardStateStore(directory: directory, cluster: cluster, node: node)
}

/// Expects opening the store to fail with `expected`, and the file to be left exactly as it was.
private func expectOpenFails(
    _ directory: String, with expected: StateStoreError, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let path = directory + "/hard-state"
    let before = try readFile(path)
    #expect(throws: expected, sourceLocation: sourceLocation) { try openStore(directory) }
    #expect(try readFile(path) == before, "the unreadable file must not be touched", sourceLocation: sourceLocation)
}

@Suite struct HardStateStoreTests {
    @Test func aFreshNodeStartsFromTheInitialState() throws {
        try withTemporaryDirectory { root in
            let directory = root + "/data/node-1"
            let store = try openStore(directory)
            #expect(store.recoveredState == .initial)
            #expect(try store.load() == .initial)
            #expect(store.path == directory + "/hard-state")
            // Opening writes nothing but the lock.
            #expect(try directoryEntries(directory) == ["LOCK"])
        }
    }

    @Test func savesAndLoads() throws {
        try withTemporaryDirectory { root in
            let store = try openStore(root)
            try store.save(sample)
            #expect(try store.load() == sample)
            let next = HardState(term: 8, votedFor: nil, lastLog: LogPosition(index: 12, term: 6))
            try store.save(next)
            #expect(try store.load() == next)
            #expect(try directoryEntries(root) == ["LOCK", "hard-state"])
        }
    }

    @Test func writesTheDocumentedLayout() throws {
        try withTemporaryDirectory { root in
            try openStore(root).save(sample)
            #expect(try readFile(root + "/hard-state") == golden)
        }
    }

    @Test func aRestartKeepsTermAndVote() throws {
        try withTemporaryDirectory { root in
            do {
                let store = try openStore(root)
                try store.save(HardState(term: 41, votedFor: 2, lastLog: .empty))
                try store.save(HardState(term: 42, votedFor: 3, lastLog: LogPosition(index: 5, term: 42)))
            }
            let restarted = try openStore(root)
            #expect(restarted.recoveredState == HardState(term: 42, votedFor: 3, lastLog: LogPosition(index: 5, term: 42)))
        }
    }

    @Test func opensFromAConfiguration() throws {
        try withTemporaryDirectory { root in
            let configuration = try NodeConfiguration(
                id: 2, listenAddress: SocketAddressSpec(parsing: "127.0.0.1:7002"), dataDirectory: root,
                cluster: ClusterName("prod"))
            let store = try HardStateStore(configuration: configuration)
            let prod = try ClusterName("prod")
            #expect(store.node == 2)
            #expect(store.cluster == prod)
            #expect(store.directory == root)
        }
    }

    @Test func refusesAFileWithAnyByteFlipped() throws {
        try withTemporaryDirectory { root in
            let path = root + "/hard-state"
            for offset in golden.indices {
                var corrupted = golden
                corrupted[offset] ^= 0x20
                try writeFile(path, corrupted)
                let error = #expect(throws: StateStoreError.self, "flipped byte \(offset)") { try openStore(root) }
                #expect(try readFile(path) == corrupted, "flipped byte \(offset): the file must not be touched")
                switch offset {
                case 0..<8:
                    #expect(error == .notAStateFile(path: path))
                case 10..<14:
                    // A damaged length: the file looks shorter or longer than its header says.
                    let length = Int(corrupted[10]) << 24 | Int(corrupted[11]) << 16 | Int(corrupted[12]) << 8 | Int(corrupted[13])
                    if length > HardStateFile.maximumSize - 18 {
                        #expect(error == .corrupt(
                            path: path, detail: "its header gives a body of \(length) bytes, more than any state file holds"))
                    } else if 18 + length > golden.count {
                        #expect(error == .truncated(path: path, size: golden.count, expectedSize: 18 + length))
                    } else {
                        #expect(error == .corrupt(path: path, detail: "\(golden.count - 18 - length) unexpected bytes follow the checksum"))
                    }
                default:
                    // The version, the body and the checksum itself are all covered by the checksum.
                    guard case .checksumMismatch(path, _, _) = error else {
                        Issue.record("flipped byte \(offset): expected a checksum mismatch, got \(String(describing: error))")
                        continue
                    }
                }
            }
        }
    }

    @Test func refusesEveryTruncation() throws {
        try withTemporaryDirectory { root in
            let path = root + "/hard-state"
            for length in 0..<golden.count {
                try writeFile(path, Array(golden[0..<length]))
                try expectOpenFails(
                    root, with: .truncated(path: path, size: length, expectedSize: length < 14 ? 18 : golden.count))
            }
        }
    }

    @Test func refusesTrailingBytes() throws {
        try withTemporaryDirectory { root in
            let path = root + "/hard-state"
            try writeFile(path, golden + [0])
            try expectOpenFails(root, with: .corrupt(path: path, detail: "1 unexpected bytes follow the checksum"))
        }
    }

    @Test func refusesAFileThatIsNotAStateFile() throws {
        try withTemporaryDirectory { root in
            let path = root + "/hard-state"
            try writeFile(path, "term=7 vote=3\n")
            try expectOpenFails(root, with: .notAStateFile(path: path))
            try writeFile(path, [0x00])
            try expectOpenFails(root, with: .notAStateFile(path: path))
        }
    }

    @Test func refusesAFutureFormatVersion() throws {
        try withTemporaryDirectory { root in
            let path = root + "/hard-state"
            var future = Array(golden.dropLast(4))
            future[9] = 2
            future.appendBigEndian(CRC32.checksum(future))
            try writeFile(path, future)
            try expectOpenFails(root, with: .unsupportedVersion(path: path, version: 2))
            let message = StateStoreError.unsupportedVersion(path: path, version: 2).description
            #expect(message.contains("format version 2, but this build of Ballot reads only version 1"))
        }
    }

    @Test func refusesACorruptBodyWithAValidChecksum() throws {
        try withTemporaryDirectory { root in
            let path = root + "/hard-state"
            var body = Array(golden.dropLast(4))
            body[22] = 7  // a cluster-name length that overruns the body
            body.appendBigEndian(CRC32.checksum(body))
            try writeFile(path, body)
            try expectOpenFails(
                root, with: .corrupt(path: path, detail: "its cluster name of 7 bytes does not fit its body of 47 bytes"))

            var nodeZero = Array(golden.dropLast(4))
            nodeZero[21] = 0
            nodeZero.appendBigEndian(CRC32.checksum(nodeZero))
            try writeFile(path, nodeZero)
            try expectOpenFails(root, with: .corrupt(path: path, detail: "it names node 0, which is not a node ID"))
        }
    }

    @Test func refusesAnotherClustersFile() throws {
        try withTemporaryDirectory { root in
            do { try openStore(root, cluster: ClusterName("staging")).save(sample) }
            try expectOpenFails(root, with: .foreignCluster(path: root + "/hard-state", found: "staging", expected: cluster))
            let message = StateStoreError.foreignCluster(path: "/d/hard-state", found: "staging", expected: cluster).description
            #expect(message == "/d/hard-state belongs to cluster \"staging\", but this node is configured for cluster "
                + "\"ballot\"; check --cluster and --data-dir (every node needs its own data directory)")
        }
    }

    @Test func refusesAnotherNodesFile() throws {
        try withTemporaryDirectory { root in
            do { try openStore(root, node: 2).save(sample) }
            try expectOpenFails(root, with: .foreignNode(path: root + "/hard-state", found: 2, expected: 1))
        }
    }

    @Test func corruptionMessagesNameTheFileAndTheWayOut() {
        let message = StateStoreError.checksumMismatch(path: "/d/hard-state", stored: 0x43E6_2954, computed: 0x1).description
        #expect(message.hasPrefix(
            "/d/hard-state is corrupt: its checksum is 0x43e62954 but its contents sum to 0x00000001."))
        #expect(message.contains("Restore /d/hard-state from a backup"))
        #expect(message.contains("remove the file and let the node rejoin"))
    }

    @Test func ignoresAndRemovesLeftoverTemporaryFiles() throws {
        try withTemporaryDirectory { root in
            do { try openStore(root).save(sample) }
            // A crash between creating and renaming the temporary file leaves half a state behind.
            try writeFile(root + "/hard-state.tmp-1f2e3d", Array(golden[0..<20]))
            try writeFile(root + "/hard-state.tmp-", [])
            let store = try openStore(root)
            #expect(store.recoveredState == sample)
            #expect(try directoryEntries(root) == ["LOCK", "hard-state"])
        }
    }

    @Test func aLeftoverTemporaryFileWithoutAStateFileMeansAFreshNode() throws {
        try withTemporaryDirectory { root in
            try writeFile(root + "/hard-state.tmp-abc", golden)
            let store = try openStore(root)
            #expect(store.recoveredState == .initial)
            #expect(try directoryEntries(root) == ["LOCK"])
        }
    }

    @Test func oneDirectoryCannotBeOpenedTwice() throws {
        try withTemporaryDirectory { root in
            var first: HardStateStore? = try openStore(root)
            withExtendedLifetime(first) {
                #expect(throws: StateStoreError.locked(directory: root, holder: getpid())) { try openStore(root, node: 2) }
                #expect(throws: StateStoreError.locked(directory: root, holder: getpid())) {
                    try DataDirectoryLock(directory: root)
                }
            }
            first = nil
            // Released with the store: now another can take it.
            let second = try openStore(root)
            #expect(second.recoveredState == .initial)
            #expect(StateStoreError.locked(directory: "/d", holder: 42).description
                == "data directory /d is in use by another Ballot process (pid 42); stop that process, "
                + "or give this node its own --data-dir")
        }
    }

    @Test func reportsADirectoryThatCannotBeCreated() throws {
        try withTemporaryDirectory { root in
            try writeFile(root + "/file", "x")
            #expect(throws: StateStoreError.io(SystemCallError(operation: "mkdir", path: root + "/file", code: ENOTDIR))) {
                try openStore(root + "/file/sub")
            }
        }
    }

    @Test func reportsAStateFileThatCannotBeRead() throws {
        try withTemporaryDirectory { root in
            try FileManager.default.createDirectory(atPath: root + "/hard-state", withIntermediateDirectories: false)
            #expect(throws: StateStoreError.io(SystemCallError(operation: "read", path: root + "/hard-state", code: EISDIR))) {
                try openStore(root)
            }
        }
    }

    @Test func aFailedSaveLeavesTheStoredStateAndNoTemporaryFile() throws {
        try withTemporaryDirectory { root in
            let store = try openStore(root)
            try store.save(sample)
            // A directory in the way of the rename makes the save fail after the temporary file was written.
            try FileManager.default.removeItem(atPath: root + "/hard-state")
            try FileManager.default.createDirectory(atPath: root + "/hard-state/x", withIntermediateDirectories: true)
            let error = #expect(throws: StateStoreError.self) {
                try store.save(HardState(term: 8, votedFor: 1, lastLog: .empty))
            }
            guard case .io(let cause) = error else {
                Issue.record("expected an I/O error, got \(String(describing: error))")
                return
            }
            #expect(cause.operation == "rename")
            #expect(try directoryEntries(root) == ["LOCK", "hard-state"])
        }
    }

    @Test func concurrentSavesNeverLeaveAMixedFile() async throws {
        try await withTemporaryDirectoryAsync { root in
            let store = try openStore(root)
            let states = (1...32).map { HardState(term: Term(UInt64($0)), votedFor: NodeID(UInt64($0 % 3 + 1)), lastLog: .empty) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for state in states {
                    group.addTask { try store.save(state) }
                }
                try await group.waitForAll()
            }
            #expect(states.contains(try store.load()))
            #expect(try directoryEntries(root) == ["LOCK", "hard-state"])
        }
    }
}

private func withTemporaryDirectoryAsync(_ body: (String) async throws -> Void) async throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("ballot-server-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    try await body(url.path)
}
