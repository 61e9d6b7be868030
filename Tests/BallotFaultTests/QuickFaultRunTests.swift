import BallotSimulation
import BallotHarness
import Foundation
import Testing

/// The quick fault run (about forty faults over 3- and 5-node clusters, a couple of minutes): the
/// same suite as `ballot faults`, whose long run is documented in docs/reliability.md.
@Suite(.serialized) struct QuickFaultRunTests {
    /// Runs the suite; its working directory (node data and logs) is kept only if it found violations.
    func run(faults: Int, kinds: [FaultKind], namespaces: Bool, seed: UInt64) async throws -> FaultSuite.Report {
        var options = FaultSuite.Options(binary: try ballotBinary(), workDirectory: temporaryDirectory("quick"))
        options.faults = faults
        options.nodeCounts = [3, 5]
        options.kinds = kinds
        options.namespaces = namespaces
        options.seed = seed
        let report = try await FaultSuite.run(options)
        if report.violations.isEmpty { try? FileManager.default.removeItem(atPath: options.workDirectory) }
        return report
    }

    /// Every guard of the run, each of which a broken node or a broken harness makes fail: nothing
    /// here is met by start-up alone (elections and probes count only after a fault began).
    func expectClean(_ report: FaultSuite.Report, faults: Int, kinds: [FaultKind]) {
        print(report.summary)
        #expect(report.totalFaults == faults)
        #expect(Set(report.faultsByKind.keys).isSubset(of: Set(kinds)))
        #expect(report.faultsByClusterSize.keys.sorted() == [3, 5])
        #expect(report.tallyByClusterSize.keys.sorted() == [3, 5])
        for (size, tally) in report.tallyByClusterSize.sorted(by: { $0.key < $1.key }) {
            #expect(tally.faults == report.faultsByClusterSize[size], "\(size) nodes: every injected fault is on the timeline")
            #expect(tally.electionForcingFaults > 0, "\(size) nodes: some fault stopped the leader")
            #expect(tally.faultsWithoutElection.isEmpty,
                    "\(size) nodes: the leader was stopped but no newer term was elected: faults \(tally.faultsWithoutElection)")
            #expect(tally.electionsAfterFaults >= tally.electionForcingFaults,
                    "\(size) nodes: each stopped leader forced its own election")
            #expect(tally.unobservedFaults.isEmpty, "\(size) nodes: no probe answered while faults \(tally.unobservedFaults) held")
            #expect(tally.probesDuringFaults >= tally.faults, "\(size) nodes: the nodes were observed while faults held")
            #expect(tally.unhealedFaults.isEmpty, "\(size) nodes: faults never healed: \(tally.unhealedFaults)")
        }
        #expect(report.unrecovered == 0, "heals after which no stable leader came within the recovery bound")
        #expect(report.violations.isEmpty, "\(report.violations.map(\.description).joined(separator: "\n"))")
        #expect(report.failures.isEmpty, "\(report.failures.joined(separator: "\n"))")
    }

    /// SIGKILL + restart and SIGSTOP/SIGCONT on loopback: needs no namespaces, runs everywhere.
    @Test func processFaultsOnLoopback() async throws {
        let kinds: [FaultKind] = [.crash, .pause]
        let report = try await run(faults: 12, kinds: kinds, namespaces: false, seed: 11)
        expectClean(report, faults: 12, kinds: kinds)
        #expect(report.faultsByKind[.crash, default: 0] > 0 && report.faultsByKind[.pause, default: 0] > 0)
    }

    /// The intruders (no credentials, another CA, another node's certificate, a replay) between
    /// SIGKILLs, against clusters that use mutual TLS and the cluster secret, on loopback: every
    /// intruder connection must be refused by the node it dialled with nothing delivered
    /// (`unauthenticated-delivery`), and every other property must hold as usual.
    @Test func intrudersBetweenCrashesOverTLSAndTheSecret() async throws {
        let kinds: [FaultKind] = [.crash, .crash, .impostor, .foreignCertificate, .wrongIdentity, .replay]
        let report = try await run(faults: 16, kinds: kinds, namespaces: false, seed: 21)
        expectClean(report, faults: 16, kinds: kinds)
        let intruders = kinds.filter(\.isIntruder).reduce(0) { $0 + report.faultsByKind[$1, default: 0] }
        #expect(intruders >= 4, "intruders were injected: \(report.faultsByKind)")
    }

    /// Every kind, network faults included, with each node in its own network namespace.
    // Without namespaces this FAILS; only BALLOT_ALLOW_NO_NAMESPACES=1 turns that into a skip, which
    // Swift Testing reports as skipped (never passed) under a large banner.
    @Test(.enabled(if: Namespaces.runNetworkCases,
                   "network namespaces unavailable and BALLOT_ALLOW_NO_NAMESPACES=1: network faults SKIPPED"))
    func everyFaultKindInNetworkNamespaces() async throws {
        if let reason = Namespaces.unavailableReason {
            let allow = Namespaces.allowSkipVariable
            Issue.record("network namespaces are unavailable (\(reason)), so no network fault can run; fix that, or set \(allow)=1 to skip these cases on purpose")
            return
        }
        let kinds = FaultKind.onRealProcesses
        let report = try await run(faults: 30, kinds: kinds, namespaces: true, seed: 5)
        expectClean(report, faults: 30, kinds: kinds)
        #expect(report.usedNamespaces)
        #expect(report.namespaceSkipReason == nil)
        let network = kinds.filter(\.needsNetwork).reduce(0) { $0 + report.faultsByKind[$1, default: 0] }
        #expect(network > 0, "network faults were injected")
    }
}
