import BallotCore
import BallotHarness
import BallotClient
import Foundation
import Glibc
import Testing

/// Issue 5's end-to-end check: Debian's real Prometheus scrapes a real local cluster through several
/// leader changes; every dashboard query returns data, the frequent-leader-changes alert goes
/// pending or firing, and the split-brain alert stays inactive.
@Suite(.serialized) struct PrometheusEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func realPrometheusSeesEveryDashboardQueryAndTheLeaderChangeAlert() async throws {
        let prometheusBinary = try Self.prometheusPath()
        // Over mutual TLS, so that the peer TLS panels have data too.
        try await withCluster(cluster: "e2e", security: .tls) { cluster in
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let directory = temporaryDirectory("prometheus")
            let port = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 40_000...50_000))
            let targets = cluster.nodes.map { "'127.0.0.1:\($0.httpPort)'" }.joined(separator: ", ")
            // The alerts use the recording rules of rules.yml.
            for file in ["rules.yml", "alerts.yml"] {
                try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent("dashboards/\(file)").path,
                                                 toPath: directory + "/" + file)
            }
            let config = """
                global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}
                rule_files: [rules.yml, alerts.yml]
                scrape_configs:
                  - job_name: ballot
                    static_configs: [{targets: [\(targets)], labels: {cluster: e2e}}]
                """
            let prometheus = try PrometheusAPI.start(prometheusBinary, config: config, in: directory, port: port)
            defer {
                prometheus.terminate()
                try? FileManager.default.removeItem(atPath: directory)
            }
            let api = PrometheusAPI(port: port)
            // All three targets up.
            let upDeadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < upDeadline, (try? await api.query("sum(up{job=\"ballot\"})"))?.first?.value != 3 {
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(try await api.query("sum(up{job=\"ballot\"})").first?.value == 3, "Prometheus does not scrape all nodes")

            // Five leader changes: four transfers and a SIGKILL failover (with a restart).
            var leader = first
            for round in 0..<5 {
                try await Task.sleep(for: .milliseconds(1_200))
                let leaderNode = cluster.node(NodeID(leader.self_)!)
                if round == 2 {
                    leaderNode.signal(SIGKILL)
                    await leaderNode.waitForExit(timeout: .seconds(5))
                    leader = try #require(await cluster.waitForLeader(excluding: leaderNode.id, newerThan: leader.term,
                                                                      timeout: .seconds(10)))
                    try leaderNode.start()
                } else {
                    let target = cluster.nodes.first { $0.id != leaderNode.id && $0.isRunning }!
                    _ = try await HTTPClient.request(.POST, host: "127.0.0.1", port: leaderNode.httpPort,
                                                     path: "/transfer?to=\(target.id)", timeout: .seconds(5))
                    leader = try #require(await cluster.waitForLeader(newerThan: leader.term, timeout: .seconds(10)))
                }
            }
            try await Task.sleep(for: .seconds(4))

            // Every dashboard query, all of them by count, returns data with finite values. A
            // quantile may be NaN for a series without observations in its window (a follower's
            // peer round trips), but not for all of them.
            let expected = try Self.dashboardTargetCount()
            let queries = try Self.dashboardQueries()
            #expect(expected > 0, "the dashboard has queries")
            #expect(queries.count == expected, "dashboard-queries.py printed \(queries.count) of the dashboard's \(expected) queries")
            var failed: [String] = []
            for (title, expression) in queries {
                let values = try await api.query(expression).map(\.value)
                let finite = values.filter(\.isFinite)
                if values.isEmpty {
                    failed.append("\(title): no data: \(expression)")
                } else if finite.isEmpty {
                    failed.append("\(title): no finite value in \(values): \(expression)")
                } else if !expression.contains("histogram_quantile"), finite.count < values.count {
                    failed.append("\(title): non-finite values in \(values): \(expression)")
                }
            }
            #expect(failed.isEmpty, "dashboard queries that failed:\n\(failed.joined(separator: "\n"))")

            // The alerts.
            let alerts = try await api.alerts()
            let frequent = alerts.filter { $0.name == "BallotFrequentLeaderChanges" }
            #expect(frequent.contains { $0.state == "pending" || $0.state == "firing" }, "alerts: \(alerts)")
            // Nodes are scraped at different instants, so right after a handover the old leader's last
            // sample (1) and the new leader's (1) can both be current for up to a scrape interval;
            // the alert's `for: 30s` exists for that. It must not go pending or firing.
            #expect(!alerts.contains { $0.name == "BallotSplitBrain" }, "split brain must stay inactive: \(alerts)")
        }
    }

    static func prometheusPath() throws -> String {
        for path in ["/usr/bin/prometheus", "/usr/local/bin/prometheus"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw HarnessError("prometheus not found: install Debian's `prometheus` package (scripts/test.sh does it)")
    }

    /// `title<TAB>expression` lines from the project's own dashboard script.
    static func dashboardQueries() throws -> [(String, String)] {
        // A per-step panel compares each step with the sample before it, so the step (--interval)
        // must be shorter than the few seconds Prometheus has been scraping.
        let process = try ChildProcess(
            "/usr/bin/env",
            arguments: ["python3", root.appendingPathComponent("scripts/dashboard-queries.py").path,
                        "--rate-interval", "30s", "--interval", "5s", "--range", "5m"],
            output: .pipe)
        let text = process.standardOutput?.readText() ?? ""
        guard process.waitForExitBlocking(timeout: .seconds(60)) == .exited(0) else {
            throw HarnessError("dashboard-queries.py failed")
        }
        return try text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2, !parts[1].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HarnessError("dashboard-queries.py printed a line that is not `title<TAB>expression`: \(line)")
            }
            return (String(parts[0]), String(parts[1]))
        }
    }

    /// How many queries the committed dashboard holds: every target with an expression that is not
    /// hidden, in every panel, panels inside rows included. Counted here, independently of the
    /// script, so that a query the script drops is missed by count.
    static func dashboardTargetCount() throws -> Int {
        let data = try Data(contentsOf: root.appendingPathComponent("dashboards/ballot-overview.json"))
        guard let dashboard = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarnessError("dashboards/ballot-overview.json is not a JSON object")
        }
        func count(_ panels: [[String: Any]]) -> Int {
            panels.reduce(0) { total, panel in
                let targets = panel["targets"] as? [[String: Any]] ?? []
                let queries = targets.count { $0["hide"] as? Bool != true && $0["expr"] is String }
                return total + queries + count(panel["panels"] as? [[String: Any]] ?? [])
            }
        }
        return count(dashboard["panels"] as? [[String: Any]] ?? [])
    }
}

/// The two Prometheus HTTP API calls the test needs.
struct PrometheusAPI {
    let port: Int

    /// Starts Debian's Prometheus on 127.0.0.1:`port` with `config` as its configuration and its
    /// data in `directory`, quiet; the caller terminates it.
    static func start(_ binary: String, config: String, in directory: String, port: Int) throws -> ChildProcess {
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        return try ChildProcess(
            binary,
            arguments: [
                "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ],
            output: .null, error: .null)
    }

    struct Sample { var labels: [String: String]; var value: Double }
    struct Alert: CustomStringConvertible {
        var name: String
        var state: String
        var description: String { "\(name)=\(state)" }
    }

    func query(_ expression: String) async throws -> [Sample] {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "+&=#")
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: allowed)!
        let response = try await HTTPClient.request(.GET, host: "127.0.0.1", port: port,
                                                    path: "/api/v1/query?query=\(encoded)", timeout: .seconds(10))
        guard let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              json["status"] as? String == "success", let data = json["data"] as? [String: Any]
        else { throw HarnessError("query failed (\(response.status)): \(expression): \(response.text)") }
        let result = data["result"] as? [[String: Any]] ?? []
        return result.map { entry in
            let value = (entry["value"] as? [Any])?.last as? String
            return Sample(labels: entry["metric"] as? [String: String] ?? [:], value: value.flatMap(Double.init) ?? .nan)
        }
    }

    func alerts() async throws -> [Alert] {
        let response = try await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: "/api/v1/alerts")
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let alerts = (json?["data"] as? [String: Any])?["alerts"] as? [[String: Any]] ?? []
        return alerts.map {
            Alert(name: ($0["labels"] as? [String: String])?["alertname"] ?? "?", state: $0["state"] as? String ?? "?")
        }
    }
}
