import BallotHarness
import Foundation
import Testing

/// The quick run of the sidecar suite (`ballot faults --sidecar`; the long run is in
/// docs/reliability.md): every fault kind against the leading node, its sidecar and its writer,
/// each node in its own network namespace, checked for two writers at once and for writers outside
/// their lease.
@Suite(.serialized) struct QuickSidecarFaultRunTests {
    func expectClean(_ report: SidecarFaultSuite.Report, faults: Int) {
        print(report.summary)
        #expect(report.totalFaults == faults)
        #expect(report.faultsByClusterSize.keys.sorted() == [3, 5])
        #expect(report.children > report.totalFaults / 2, "faults replaced the writer again and again")
        #expect(report.overlapMilliseconds == 0)
        #expect(report.childViolations.isEmpty, "\(report.childViolations.map(\.description).joined(separator: "\n"))")
        #expect(report.nodeViolations.isEmpty, "\(report.nodeViolations.map(\.description).joined(separator: "\n"))")
        #expect(report.failures.isEmpty, "\(report.failures.joined(separator: "\n"))")
    }

    @Test(.enabled(if: Namespaces.runNetworkCases,
                   "network namespaces unavailable and BALLOT_ALLOW_NO_NAMESPACES=1: sidecar partitions SKIPPED"))
    func everySidecarFaultInNetworkNamespaces() async throws {
        if let reason = Namespaces.unavailableReason {
            Issue.record("network namespaces are unavailable (\(reason)); fix that, or set \(Namespaces.allowSkipVariable)=1 to skip on purpose")
            return
        }
        var options = SidecarFaultSuite.Options(binary: try ballotBinary(), workDirectory: temporaryDirectory("sidecar"))
        options.faults = 18
        options.seed = 7
        let report = try await SidecarFaultSuite.run(options)
        expectClean(report, faults: 18)
        #expect(Set(report.faultsByKind.keys).count >= 6, "most kinds were injected: \(report.faultsByKind)")
        if report.failures.isEmpty { try? FileManager.default.removeItem(atPath: options.workDirectory) }
    }
}
