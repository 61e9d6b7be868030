import ArgumentParser
import BallotChildRun
import BallotHarness
import Foundation

extension FaultsCommand {
    /// `ballot faults --sidecar`: the sidecar suite, with the node settings already parsed into `nodeOptions`.
    func runSidecarSuite(_ nodeOptions: FaultSuite.Options) async throws {
        var options = SidecarFaultSuite.Options(binary: nodeOptions.binary, workDirectory: nodeOptions.workDirectory)
        options.faults = nodeOptions.faults
        options.nodeCounts = nodeOptions.nodeCounts
        options.seed = nodeOptions.seed
        options.namespaces = nodeOptions.namespaces
        options.electionTimeout = nodeOptions.electionTimeout
        options.heartbeatInterval = nodeOptions.heartbeatInterval
        options.leaseDuration = nodeOptions.leaseDuration
        if let kinds {
            options.kinds = try kinds.split(separator: ",").map { name in
                guard let fault = SidecarFault(named: String(name)) else {
                    throw ValidationError("unknown sidecar fault '\(name)'; use "
                                          + SidecarFault.all.map(\.description).joined(separator: ","))
                }
                return fault
            }
        }
        // The writer is the `ballot-writer` next to the nodes' binary; missing, nothing is started.
        let writer = try ChildRun.writer(nextTo: options.binary)
        Self.say("ballot faults --sidecar: seed \(seed), \(faults) faults on \(nodes) nodes, T=\(electionTimeout), "
                 + "heartbeat \(heartbeatInterval)" + (leaseDuration.map { ", lease \($0)" } ?? "") + ", writer \(writer)")
        let report = try await SidecarFaultSuite.run(options) { Self.say($0) }
        Self.say("\n" + report.summary)
        if report.failures.isEmpty {
            try? FileManager.default.removeItem(atPath: options.workDirectory)
        } else {
            Self.say("evidence is kept under \(options.workDirectory)")
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
