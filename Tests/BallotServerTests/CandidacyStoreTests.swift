import BallotCore
import Foundation
import Testing

@testable import BallotServer

/// `<data-dir>/candidacy`: eligibility across restarts (issue 15), refused when it cannot be trusted.
@Suite struct CandidacyStoreTests {
    /// Node 1 of cluster "ballot", ineligible, laid out by hand from docs/configuration.md; the
    /// checksum computed independently (zlib's crc32).
    static let golden: [UInt8] = [
        0x42, 0x41, 0x4C, 0x4C, 0x4F, 0x54, 0x43, 0x44,  // "BALLOTCD"
        0x00, 0x01,  // version 1
        0x00, 0x00, 0x00, 0x10,  // body length 16
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // node 1
        0x06, 0x62, 0x61, 0x6C, 0x6C, 0x6F, 0x74,  // "ballot"
        0x00,  // eligible = false
    ]

    func open(_ root: String, node: NodeID = 1, cluster: ClusterName = .default) throws -> (HardStateStore, CandidacyStore) {
        let hardState = try HardStateStore(directory: root, cluster: cluster, node: node)
        return (hardState, try CandidacyStore(beside: hardState))
    }

    @Test func aFreshNodeIsEligibleAndASavedSettingSurvivesARestart() throws {
        try withTemporaryDirectory { root in
            do {
                let (_, store) = try open(root)
                #expect(store.recoveredEligible)
                #expect(try directoryEntries(root) == ["LOCK"], "opening writes nothing")
                try store.save(eligible: false)
                #expect(try store.load() == false)
            }
            let (_, reopened) = try open(root)
            #expect(reopened.recoveredEligible == false)
            try reopened.save(eligible: true)
            #expect(try open(root).1.recoveredEligible)
        }
    }

    @Test func writesTheDocumentedLayout() throws {
        try withTemporaryDirectory { root in
            try open(root).1.save(eligible: false)
            #expect(try readFile(root + "/candidacy") == Self.golden + [0x9B, 0xC2, 0xEC, 0xFE])
        }
    }

    @Test func aFileThatCannotBeTrustedStopsStartUpNamingIt() throws {
        try withTemporaryDirectory { root in
            let path = root + "/candidacy"
            var file = Self.golden
            file.appendBigEndian(CRC32.checksum(Self.golden))
            for offset in file.indices {
                var corrupted = file
                corrupted[offset] ^= 0x01
                try writeFile(path, corrupted)
                #expect(throws: StateStoreError.self, "flipped byte \(offset)") { try open(root) }
            }
            // Well formed, but the eligible byte is neither 0 nor 1.
            var two = Self.golden
            two[two.count - 1] = 2
            two.appendBigEndian(CRC32.checksum(two))
            try writeFile(path, two)
            #expect(throws: StateStoreError.corrupt(path: path, detail: "its eligible byte is 2, not 0 or 1")) { try open(root) }
            let message = StateStoreError.checksumMismatch(path: path, stored: 1, computed: 2).description
            #expect(message.contains(path) && message.contains("PUT /candidacy"), "\(message)")
            #expect(StateStoreError.notAStateFile(path: path).description.contains("BALLOTCD"))
        }
    }

    @Test func anotherNodesFileIsRefused() throws {
        try withTemporaryDirectory { root in
            do { try open(root, node: 1).1.save(eligible: false) }
            let path = root + "/candidacy"
            #expect(throws: StateStoreError.foreignNode(path: path, found: 1, expected: 2)) { try open(root, node: 2) }
        }
    }

    @Test func aSaveLeftHalfDoneByACrashIsRemovedAtOpen() throws {
        try withTemporaryDirectory { root in
            try writeFile(root + "/candidacy.tmp-abc", [1, 2, 3])
            let (_, store) = try open(root)
            #expect(store.recoveredEligible)
            #expect(try directoryEntries(root) == ["LOCK"])
        }
    }
}
