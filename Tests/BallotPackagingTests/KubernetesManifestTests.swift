import Foundation
import Testing

/// deploy/kubernetes validates offline against the Kubernetes schemas (kubernetes-validate), its
/// PrometheusRule is what the generator makes from the rule files, and promtool accepts its rules.
@Suite struct KubernetesManifestTests {
    static let directory = repositoryRoot + "/deploy/kubernetes"
    static let coreManifests = ["service.yaml", "statefulset.yaml", "poddisruptionbudget.yaml"]

    @Test(.enabled(if: isExecutable("kubernetes-validate")))
    func coreManifestsValidateStrictly() async throws {
        let result = try await run(
            "kubernetes-validate", ["--strict"] + Self.coreManifests.map { Self.directory + "/" + $0 })
        print("kubernetes-validate --strict:\n\(result.combined)")
        #expect(result.status == 0, "\(result.combined)")
        #expect(result.combined.split(separator: "\n").filter { $0.hasPrefix("INFO") && $0.contains("passed") }.count == 3)
        #expect(!result.combined.contains("ERROR") && !result.combined.contains("WARN"))
    }

    /// The custom resources have no schema in kubernetes-validate (it says so); their content is
    /// checked here instead.
    @Test(.enabled(if: isExecutable("kubernetes-validate")))
    func customResourcesAreReportedAsUnvalidated() async throws {
        let result = try await run("kubernetes-validate", ["--strict", Self.directory + "/podmonitor.yaml",
                                                           Self.directory + "/prometheusrule.yaml"])
        print("kubernetes-validate (custom resources):\n\(result.combined)")
        #expect(result.status == 0)
        #expect(result.combined.contains("Couldn't find schema for kind PodMonitor"))
    }

    @Test func thePrometheusRuleIsGeneratedFromTheRuleFiles() async throws {
        let generated = try await succeed(repositoryRoot + "/scripts/generate-prometheusrule.sh", [])
        let committed = try String(contentsOfFile: Self.directory + "/prometheusrule.yaml", encoding: .utf8)
        #expect(generated == committed, "run scripts/generate-prometheusrule.sh > deploy/kubernetes/prometheusrule.yaml")
    }

    @Test(.enabled(if: isExecutable("promtool")))
    func promtoolAcceptsThePrometheusRulesGroups() async throws {
        let text = try String(contentsOfFile: Self.directory + "/prometheusrule.yaml", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let spec = try #require(lines.firstIndex(of: "spec:"))
        let groups = lines[(spec + 1)...].map { $0.hasPrefix("  ") ? String($0.dropFirst(2)) : String($0) }
        let path = NSTemporaryDirectory() + "ballot-prometheusrule-\(getpid()).yml"
        try groups.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await run("promtool", ["check", "rules", path])
        #expect(result.status == 0, "\(result.combined)")
    }

    /// What docs/deployment.md promises about the pods: identity from the hostname, readiness on
    /// /healthz, DNS names before readiness, a budget that keeps a quorum, peers that authenticate.
    @Test func theManifestsKeepTheirPromises() throws {
        let statefulSet = try String(contentsOfFile: Self.directory + "/statefulset.yaml", encoding: .utf8)
        #expect(statefulSet.contains("name: BALLOT_ID_FROM_HOSTNAME"))
        #expect(statefulSet.contains("ballot-{ordinal}.ballot-peers.$(POD_NAMESPACE).svc.cluster.local:7001"))
        #expect(!statefulSet.contains("path: /readyz"), "readiness must use /healthz")
        #expect(statefulSet.contains("readinessProbe:\n            httpGet:\n              path: /healthz"))
        #expect(statefulSet.contains("podManagementPolicy: Parallel"))
        // Peers authenticate (a node off loopback refuses to start otherwise), from a Secret the
        // node's group may read and other users may not.
        #expect(statefulSet.contains("name: BALLOT_CLUSTER_SECRET_FILE"))
        #expect(statefulSet.contains("secretName: ballot-peer") && statefulSet.contains("defaultMode: 0440"))
        let service = try String(contentsOfFile: Self.directory + "/service.yaml", encoding: .utf8)
        #expect(service.contains("publishNotReadyAddresses: true") && service.contains("clusterIP: None"))
        let budget = try String(contentsOfFile: Self.directory + "/poddisruptionbudget.yaml", encoding: .utf8)
        #expect(budget.contains("maxUnavailable: 1"))
    }

    /// Containerfile (network build) and Containerfile.prebuilt (offline) make the same image.
    @Test func bothContainerfilesDescribeTheSameImage() throws {
        func runtimeStage(_ name: String) throws -> [Substring] {
            let text = try String(contentsOfFile: repositoryRoot + "/deploy/container/" + name, encoding: .utf8)
            let lines = text.split(separator: "\n")
            return Array(lines[(lines.firstIndex { $0.hasPrefix("USER ") } ?? lines.endIndex)...])
        }
        let fromSource = try runtimeStage("Containerfile")
        #expect(!fromSource.isEmpty)
        #expect(fromSource == (try runtimeStage("Containerfile.prebuilt")))
    }
}
