import BallotHarness
import Foundation
import Glibc
import Testing

@testable import BallotServer

/// Keeps `dashboards/` honest: the rules pass the real `promtool` (`check rules` and the unit tests
/// of `alerts.test.yml` and `rules.test.yml`), every alert of the metrics catalogue has a rule,
/// tests and a runbook, the per-step panels count each event exactly once (the counting test of
/// `dashboards/tests/`, with negative controls that must fail), and the Grafana dashboard is
/// importable, scoped right, and queries only catalogued metrics.
///
/// The files are generated from `dashboards/mixin` (`scripts/generate-monitoring.sh`; `scripts/test.sh`
/// checks that the committed ones are up to date); these tests check what is committed.
///
/// `promtool` comes with Debian's `prometheus` package, which `scripts/test.sh` installs; without
/// it these tests fail (they never skip), as do they without `python3`.
@Suite("Alert rules and dashboard", .serialized)
struct AlertRulesTests {
    /// The alerts `../shared/design/METRICS.md` says we ship.
    static let expectedAlerts = [
        "BallotFrequentLeaderChanges", "BallotNoLeader", "BallotSplitBrain", "BallotInsufficientMembers",
        "BallotSlowElections", "BallotPeerUnreachable", "BallotFramesRejected", "BallotTargetsAbsent",
        // Issue 16: the durable-state series.
        "BallotHalted", "BallotSlowFsync",
        "BallotCertificateExpiresSoon",
    ]

    /// Where every runbook link points by default (`runbookBaseURL` of dashboards/mixin/config.libsonnet).
    static let runbookBase = "https://github.com/ballot-project/ballot/blob/main/docs/operations.md"

    /// Issue 19: panels that describe a whole cluster aggregate every node of it and ignore
    /// `$instance`; every other panel is per node and follows it.
    static let clusterWidePanelIDs: Set<Int> = [3, 4, 5, 6, 10, 11, 13, 15, 16, 28, 29, 30, 35]

    // MARK: promtool

    @Test("promtool check rules accepts dashboards/rules.yml and dashboards/alerts.yml")
    func rulesAreValid() async throws {
        let promtool = try Tool.require("promtool", package: "prometheus")
        let result = try await Tool.run(promtool, ["check", "rules", "dashboards/rules.yml", "dashboards/alerts.yml"])
        #expect(result.status == 0, "promtool check rules failed:\n\(result.combined)")
        #expect(result.stdout.components(separatedBy: "SUCCESS").count == 3, "\(result.combined)")
    }

    @Test("promtool test rules passes dashboards/alerts.test.yml and dashboards/rules.test.yml",
          arguments: ["dashboards/alerts.test.yml", "dashboards/rules.test.yml"])
    func ruleUnitTestsPass(file: String) async throws {
        let promtool = try Tool.require("promtool", package: "prometheus")
        let result = try await Tool.run(promtool, ["test", "rules", file])
        #expect(result.status == 0, "promtool test rules \(file) failed:\n\(result.combined)")
        #expect(result.stdout.contains("SUCCESS"), "\(result.combined)")
    }

    @Test("the alerts use only recording rules that rules.yml defines")
    func alertsUseDefinedRecordingRules() throws {
        let recorded = Set(try Repo.text("dashboards/rules.yml").split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("- record:") else { return nil }
            return trimmed.dropFirst("- record:".count).trimmingCharacters(in: .whitespaces)
        })
        #expect(!recorded.isEmpty)
        let alerts = try Repo.text("dashboards/alerts.yml")
        for name in try Self.recordingRuleNames(in: alerts) {
            #expect(recorded.contains(name), "alerts.yml uses \(name), which rules.yml does not record")
        }
    }

    /// Names of the form `level:metric:operations` (recording rules) in a rules file's expressions.
    static func recordingRuleNames(in text: String) throws -> Set<String> {
        let pattern = try NSRegularExpression(pattern: #"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b"#)
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }

    // MARK: Counting: each event in exactly one bar

    @Test("the counting test passes: one increment appears exactly once in every per-step panel query")
    func perStepPanelsCountEachEventOnce() async throws {
        let promtool = try Tool.require("promtool", package: "prometheus")
        let result = try await Tool.run(promtool, ["test", "rules", "dashboards/tests/panel-steps.test.yml"])
        #expect(result.status == 0, "the per-step panels do not count each event once:\n\(result.combined)")
        #expect(result.stdout.contains("SUCCESS"), "\(result.combined)")
    }

    @Test("the counting test covers every per-step query of the dashboard and its annotations")
    func countingTestCoversEveryPerStepQuery() throws {
        let dashboard = try Dashboard.load()
        var expected: Set<String> = []
        for panel in dashboard.queryPanels {
            for target in panel["targets"] as? [[String: Any]] ?? [] where (target["expr"] as? String ?? "").contains("${__interval_ms}") {
                expected.insert("\(panel["id"] as? Int ?? -1)\(target["refId"] as? String ?? "") \(panel["title"] as? String ?? "")")
            }
        }
        let annotations = (dashboard.root["annotations"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for annotation in annotations where (annotation["expr"] as? String ?? "").contains("${__interval_ms}") {
            expected.insert("annotation \(annotation["name"] as? String ?? "")")
        }
        // The event panels of issue 19 (leader changes, the election heatmap, campaigns) and the new ones.
        #expect(expected.count >= 10, "per-step queries: \(expected.sorted())")
        for id in [9, 11, 14, 16, 22, 28, 29, 30, 32] {
            #expect(expected.contains { $0.hasPrefix("\(id)A ") }, "panel \(id) does not count per step")
        }

        let tested = Self.panelLabels(in: try Repo.text("dashboards/tests/panel-steps.test.yml"))
        #expect(tested == expected, "per-step queries without a counting test: \(expected.subtracting(tested).sorted())")
    }

    /// The negative controls: the same checks on the query forms that miscounted must fail, and
    /// for every per-step query, or the checks could not tell a wrong panel from a right one.
    @Test("the counting test fails for the old query forms, for every per-step query",
          arguments: ["rate-interval", "interval"])
    func countingTestRejectsLegacyForms(form: String) async throws {
        let promtool = try Tool.require("promtool", package: "prometheus")
        let file = "dashboards/tests/panel-steps.legacy-\(form).test.yml"
        let result = try await Tool.run(promtool, ["test", "rules", file])
        #expect(result.status != 0, "\(file) must fail, but promtool accepted it:\n\(result.combined)")
        #expect(result.combined.contains("FAILED"), "\(result.combined)")

        let failing = Self.panelLabels(in: result.combined)
        let all = Self.panelLabels(in: try Repo.text(file))
        #expect(!all.isEmpty)
        #expect(failing == all, "the old form passes the counting checks for: \(all.subtracting(failing).sorted())")
    }

    /// The values of `panel="..."` labels in a text (a promtool test file or its output).
    static func panelLabels(in text: String) -> Set<String> {
        var labels: Set<String> = []
        var rest = Substring(text)
        while let start = rest.range(of: #"panel=""#) {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { break }
            labels.insert(String(rest[..<end]))
            rest = rest[end...]
        }
        return labels
    }

    @Test("promtool check config accepts dashboards/prometheus.yml, which scrapes ballot local")
    func prometheusConfigIsValid() async throws {
        let promtool = try Tool.require("promtool", package: "prometheus")
        let result = try await Tool.run(promtool, ["check", "config", "dashboards/prometheus.yml"])
        #expect(result.status == 0, "promtool check config failed:\n\(result.combined)")

        let config = try Repo.text("dashboards/prometheus.yml")
        for target in ["127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103"] {
            #expect(config.contains("- \(target)"), "prometheus.yml does not scrape \(target)")
        }
        #expect(config.contains("job_name: ballot"))
        #expect(config.contains("cluster: local"))
        #expect(config.contains("- rules.yml"), "the alerts need the recording rules")
        #expect(config.contains("- alerts.yml"))
    }

    // MARK: Alerts, their tests and runbooks

    @Test("every expected alert has a rule with severity, annotations and a runbook section")
    func everyAlertHasRuleAndRunbook() throws {
        let rules = AlertRuleFile.parse(try Repo.text("dashboards/alerts.yml"))
        let runbook = try Repo.text("docs/operations.md")
        let headings = Set(runbook.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("#") else { return nil }
            return line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
        })

        #expect(Set(rules.map(\.name)) == Set(Self.expectedAlerts), "alerts in alerts.yml")
        for rule in rules {
            #expect(["critical", "warning"].contains(rule.fields["severity"] ?? ""), "\(rule.name): severity")
            for annotation in ["summary", "description"] {
                #expect(!(rule.fields[annotation] ?? "").isEmpty, "\(rule.name): \(annotation)")
            }
            // Absolute, so that the link works from Alertmanager, Slack or a pager.
            #expect(rule.fields["runbook_url"] == "\(Self.runbookBase)#\(rule.name.lowercased())",
                    "\(rule.name): runbook_url")
            #expect(headings.contains(rule.name), "docs/operations.md has no section \(rule.name)")
        }
    }

    @Test("alerts.test.yml has a firing and a quiet case for every expected alert")
    func everyAlertHasPositiveAndNegativeTests() throws {
        let lines = try Repo.text("dashboards/alerts.test.yml").split(separator: "\n").map(String.init)
        var firing: Set<String> = []
        var quiet: Set<String> = []
        for (index, line) in lines.enumerated() {
            guard let range = line.range(of: "alertname: ") else { continue }
            let name = line[range.upperBound...].prefix { $0.isLetter || $0.isNumber }
            // The expectation is on the same line (flow style) or the next one (block style).
            let rest = line[range.upperBound...] + (index + 1 < lines.count ? lines[index + 1] : "")
            guard let expectation = rest.range(of: "exp_alerts:") else { continue }
            let value = rest[expectation.upperBound...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("[]") { quiet.insert(String(name)) } else { firing.insert(String(name)) }
        }
        for alert in Self.expectedAlerts {
            #expect(firing.contains(alert), "no test in which \(alert) fires")
            #expect(quiet.contains(alert), "no test in which \(alert) stays quiet")
        }
    }

    // MARK: The dashboard

    @Test("the dashboard is importable and provisionable: $datasource, variables, unique ids, no overlaps")
    func dashboardStructure() throws {
        let dashboard = try Dashboard.load()
        let root = dashboard.root

        // A data source variable instead of an import-time input: file provisioning has no import
        // step, and would leave a `${DS_...}` input unresolved.
        #expect(root["__inputs"] == nil, "no __inputs: panels use the $datasource variable")
        #expect((root["schemaVersion"] as? Int ?? 0) >= 36, "schemaVersion")
        #expect(!(root["refresh"] as? String ?? "").isEmpty, "refresh")
        #expect((root["time"] as? [String: Any])?["from"] is String, "time range")
        #expect(!(root["uid"] as? String ?? "").isEmpty && !(root["title"] as? String ?? "").isEmpty)

        let variables = (root["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        #expect(variables.map { $0["name"] as? String ?? "" } == ["datasource", "job", "cluster", "instance"])
        let datasource = variables.first { $0["name"] as? String == "datasource" }
        #expect(datasource?["type"] as? String == "datasource" && datasource?["query"] as? String == "prometheus")
        let job = variables.first { $0["name"] as? String == "job" }
        #expect((job?["current"] as? [String: Any])?["value"] as? String == "ballot", "$job defaults to ballot")
        for name in ["job", "cluster", "instance"] {
            let variable = variables.first { $0["name"] as? String == name }
            #expect(variable?["type"] as? String == "query", "variable \(name)")
            #expect(Dashboard.usesDataSourceVariable(variable?["datasource"]), "variable \(name): datasource")
            let definition = variable?["definition"] as? String ?? ""
            #expect(definition.hasPrefix("label_values(ballot_build_info") && definition.contains(", \(name))"),
                    "variable \(name): \(definition)")
        }

        // Every panel, rows included: unique ids, inside the 24 columns, and no two overlapping.
        var ids: Set<Int> = []
        var cells: [Int: [Int: Int]] = [:]
        for panel in dashboard.allPanels {
            let id = panel["id"] as? Int ?? -1
            #expect(ids.insert(id).inserted, "duplicate or missing panel id \(id)")
            let grid = panel["gridPos"] as? [String: Int] ?? [:]
            let (x, y, w, h) = (grid["x"] ?? -1, grid["y"] ?? -1, grid["w"] ?? 0, grid["h"] ?? 0)
            #expect(w > 0 && h > 0 && x >= 0 && y >= 0 && x + w <= 24, "panel \(id): gridPos \(grid)")
            for column in max(x, 0)..<max(x + w, 0) {
                for row in max(y, 0)..<max(y + h, 0) {
                    if let other = cells[column]?[row] {
                        Issue.record("panel \(id) overlaps panel \(other) at column \(column), row \(row)")
                    }
                    cells[column, default: [:]][row] = id
                }
            }
        }

        let panels = dashboard.queryPanels
        #expect(!panels.isEmpty)
        var titles: Set<String> = []
        for panel in panels {
            let title = panel["title"] as? String ?? ""
            #expect(!title.isEmpty, "a panel without a title")
            #expect(titles.insert(title).inserted, "duplicate panel title \(title)")
            #expect(!(panel["description"] as? String ?? "").isEmpty, "\(title): no description")
            #expect(Dashboard.usesDataSourceVariable(panel["datasource"]), "\(title): datasource must be ${datasource}")

            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "\(title): no queries")
            var refIDs: Set<String> = []
            for target in targets {
                #expect(!(target["expr"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                        "\(title): empty query")
                #expect(refIDs.insert(target["refId"] as? String ?? "").inserted, "\(title): duplicate refId")
                #expect(Dashboard.usesDataSourceVariable(target["datasource"]), "\(title): target datasource")
                // Per-step counts use the exact step; `$__interval` is rounded down to a whole unit.
                let query = target["expr"] as? String ?? ""
                #expect(!query.contains("$__interval]"), "\(title): use ${__interval_ms}ms")
            }
        }

        let annotations = (root["annotations"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        let leaderChanges = annotations.first { $0["name"] as? String == "Leader changes" }
        let annotationQuery = leaderChanges?["expr"] as? String ?? ""
        #expect(annotationQuery.contains("ballot_leader_changes_total"), "leader-change annotations")
        #expect(Dashboard.usesDataSourceVariable(leaderChanges?["datasource"]))

        let types = Set(panels.compactMap { $0["type"] as? String })
        for type in ["stat", "timeseries", "heatmap", "state-timeline", "table"] {
            #expect(types.contains(type), "no \(type) panel")
        }
        let metrics = Set(try panels.flatMap(Dashboard.expressions).flatMap { try PromQLSelectors.scan($0).map(\.metric) })
        for required in [
            "ballot_leader_changes_total", "ballot_election_duration_seconds_bucket",
            "ballot_leaderless_duration_seconds_bucket", "ballot_leader_uptime_seconds",
            "ballot_leader_last_contact_seconds", "ballot_peer_round_trip_time_seconds_bucket",
            "ballot_peer_frames_rejected_total", "ballot_role", "ballot_term",
            "process_cpu_seconds_total", "process_resident_memory_bytes",
            // Issue 19: what the alerts watch, and what operators look for in an incident or upgrade.
            "ballot_has_leader", "ballot_peer_bytes_sent_total", "ballot_peer_bytes_received_total",
            "ballot_elections_started_total", "ballot_step_downs_total", "ballot_leadership_transfers_total",
            "ballot_peer_queue_dropped_total", "process_open_fds", "process_start_time_seconds", "ballot_build_info",
            // Issue 16: the disk under the term and vote, and nodes that gave up on it.
            "ballot_state_fsync_duration_seconds_bucket", "ballot_halted",
        ] {
            #expect(metrics.contains(required), "no panel shows \(required)")
        }
    }

    @Test("threshold lines on the dashboard mirror the alert thresholds")
    func thresholdLinesMirrorAlerts() throws {
        let dashboard = try Dashboard.load()
        func lines(_ id: Int) -> [Double] {
            let panel = dashboard.queryPanels.first { $0["id"] as? Int == id }
            let defaults = (panel?["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any]
            let style = ((defaults?["custom"] as? [String: Any])?["thresholdsStyle"] as? [String: Any])?["mode"] as? String
            guard let style, style != "off" else { return [] }
            let steps = (defaults?["thresholds"] as? [String: Any])?["steps"] as? [[String: Any]] ?? []
            return steps.compactMap { $0["value"] as? Double }
        }
        let alerts = try Repo.text("dashboards/alerts.yml")
        // Each pair: a panel's line and the alert expression it mirrors.
        for (id, value, expression) in [
            (10, 4.0, "cluster:ballot_leader_changes:max_increase15m >= 4"),
            (13, 3.0, "ballot_election_duration_seconds_bucket{job=\"ballot\"}[15m]))\n          ) > 3\n"),
            (15, 5.0, "ballot_leaderless_duration_seconds_bucket{job=\"ballot\"}[15m]))\n          ) > 5\n"),
            (19, 15.0, "ballot_leader_last_contact_seconds{job=\"ballot\"} > 15"),
            (21, 0.8, "[5m]) < 0.8"),
            (41, 0.128, "ballot_state_fsync_duration_seconds_bucket{job=\"ballot\"}[15m]))\n          ) > 0.128\n"),
        ] {
            #expect(lines(id) == [value], "panel \(id): threshold line \(lines(id)), alert at \(value)")
            #expect(alerts.contains(expression), "alerts.yml no longer has \(expression)")
        }
    }

    @Test("the rejected-frames panel and runbook name every reason the code counts")
    func rejectReasonsAreDocumented() throws {
        let dashboard = try Dashboard.load()
        let panel = dashboard.queryPanels.first { $0["id"] as? Int == 22 }
        let description = panel?["description"] as? String ?? ""
        let runbook = try Repo.text("docs/operations.md")
        let metricsDoc = try Repo.text("docs/metrics.md")
        // The series the exporter creates, and so every value its `reason` label can take.
        #expect(MetricSeries.frameRejectionReasons.count == 11)
        for reason in MetricSeries.frameRejectionReasons {
            #expect(description.contains(reason), "panel 22 does not explain reason \(reason)")
            #expect(runbook.contains("`\(reason)`"), "docs/operations.md does not explain reason \(reason)")
            #expect(metricsDoc.contains("`\(reason)`"), "docs/metrics.md does not list reason \(reason)")
        }
    }

    @Test("every dashboard query selects $job and $cluster; per-node panels $instance, cluster-wide panels never")
    func dashboardSelectors() throws {
        let dashboard = try Dashboard.load()
        var seen: Set<Int> = []
        for panel in dashboard.queryPanels {
            let title = panel["title"] as? String ?? ""
            let id = panel["id"] as? Int ?? -1
            let clusterWide = Self.clusterWidePanelIDs.contains(id)
            if clusterWide { seen.insert(id) }
            for expr in Dashboard.expressions(panel) {
                let selectors = try PromQLSelectors.scan(expr)
                #expect(!selectors.isEmpty, "\(title): no metric in \(expr)")
                for selector in selectors {
                    #expect(MetricCatalogue.allows(selector.metric), "\(title): \(selector.metric) is not catalogued")
                    let matchers = selector.matchers.replacingOccurrences(of: " ", with: "")
                    #expect(matchers.contains(#"job=~"$job""#) && matchers.contains(#"cluster=~"$cluster""#),
                            "\(title): \(selector.metric){\(selector.matchers)} must select $job and $cluster")
                    if clusterWide {
                        #expect(!matchers.contains("instance"),
                                "\(title) is cluster-wide: \(selector.metric){\(selector.matchers)} must not filter by instance")
                    } else {
                        #expect(matchers.contains(#"instance=~"$instance""#),
                                "\(title) is per node: \(selector.metric){\(selector.matchers)} must filter by $instance")
                    }
                }
                // Cluster-wide results keep the cluster label, so legends tell clusters apart.
                if clusterWide {
                    #expect(expr.contains("by (cluster"), "\(title): must aggregate by cluster")
                }
            }
        }
        #expect(seen == Self.clusterWidePanelIDs, "cluster-wide panels missing: \(Self.clusterWidePanelIDs.subtracting(seen))")
    }

    @Test("scripts/dashboard-queries.py prints every query, substituted, and each one parses")
    func dashboardQueriesScript() async throws {
        let python = try Tool.require("python3", package: "python3")
        let result = try await Tool.run(python, ["scripts/dashboard-queries.py"])
        #expect(result.status == 0, "dashboard-queries.py failed:\n\(result.combined)")

        let dashboard = try Dashboard.load()
        let expected = dashboard.queryPanels.flatMap { panel in
            Dashboard.expressions(panel).map { _ in panel["title"] as? String ?? "" }
        }
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == expected.count, "one line per query: \(lines.count) lines, \(expected.count) queries")

        var queries: [String] = []
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 2 else {
                Issue.record("not title<TAB>expr: \(line)")
                continue
            }
            if index < expected.count { #expect(fields[0] == expected[index]) }
            #expect(!fields[1].contains("$"), "unsubstituted variable in \(line)")
            #expect(!fields[1].contains("\n"))
            for selector in try PromQLSelectors.scan(fields[1]) {
                #expect(MetricCatalogue.allows(selector.metric), "\(fields[0]): \(selector.metric)")
            }
            queries.append(fields[1])
        }

        // promtool parses every query as the expression of a recording rule. The file is JSON,
        // which YAML (and so promtool) reads as it is.
        let promtool = try Tool.require("promtool", package: "prometheus")
        let rules: [String: Any] = ["groups": [[
            "name": "dashboard-queries",
            "rules": queries.enumerated().map { ["record": "dashboard:query_\($0.offset)", "expr": $0.element] },
        ]]]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ballot-dashboard-queries-\(UUID().uuidString).yml")
        try JSONSerialization.data(withJSONObject: rules, options: [.sortedKeys, .withoutEscapingSlashes]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try await Tool.run(promtool, ["check", "rules", file.path])
        #expect(check.status == 0, "a dashboard query does not parse:\n\(check.combined)")
        #expect(check.stdout.contains("SUCCESS: \(queries.count) rules found"), "\(check.combined)")
    }

    @Test("the selector scanner finds metrics and skips functions, labels, strings and durations")
    func selectorScanner() throws {
        let selectors = try PromQLSelectors.scan(#"""
            histogram_quantile(0.99, sum by (cluster, le) (rate(ballot_election_duration_seconds_bucket{a="x}y", b=~"$c"}[5m])))
              > on (cluster) group_left max without (instance) (up{job="ballot"}) or vector(1e-3) and bool offset
            """#)
        #expect(selectors.map(\.metric) == ["ballot_election_duration_seconds_bucket", "up"])
        #expect(selectors.first?.matchers == #"a="x}y", b=~"$c""#)
        #expect(throws: PromQLSelectors.ScanError.self) { try PromQLSelectors.scan(#"rate(x{a="b"[5m])"#) }
        let grafana = try PromQLSelectors.scan(#"last_over_time(x{job=~"$job"}[15m] offset ${__interval_ms}ms) - y{a="$b"} offset $__range"#)
        #expect(grafana.map(\.metric) == ["x", "y"])
        #expect(MetricCatalogue.allows("ballot_peer_round_trip_time_seconds_count"))
        #expect(!MetricCatalogue.allows("ballot_term_bucket"))
        #expect(!MetricCatalogue.allows("ballot_leader"))
    }
}

// MARK: - Support

/// Paths relative to the repository root, found from this file's location.
private enum Repo {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/BallotServerTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }
}

/// External programs, run from the repository root with a time limit.
private enum Tool {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var package: String
        var description: String {
            "\(name) not found on PATH or in /usr/bin, /usr/local/bin, /bin: install the Debian package "
                + "`\(package)` (`apt-get install \(package)`; scripts/test.sh installs what the suite needs)"
        }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var combined: String { stdout + stderr }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var command: String
        var description: String { "\(command) did not finish in time and was terminated" }
    }

    /// The executable's path; if there is none, the test fails with instructions (it never skips).
    static func require(_ name: String, package: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Missing(name: name, package: package)
    }

    static func run(_ executable: String, _ arguments: [String], timeoutSeconds: Int = 120) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory
        let outURL = directory.appendingPathComponent("ballot-tool-\(UUID().uuidString).out")
        let errURL = directory.appendingPathComponent("ballot-tool-\(UUID().uuidString).err")
        // Files rather than pipes: a chatty tool can never block on a full pipe.
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let process = try ChildProcess(executable, arguments: arguments, directory: Repo.root.path,
                                       output: .file(outURL.path), error: .file(errURL.path))
        guard let exit = await process.waitForExit(timeout: .seconds(timeoutSeconds)) else {
            process.signal(SIGTERM)
            await process.waitForExit(timeout: .seconds(5))
            throw TimedOut(command: ([executable] + arguments).joined(separator: " "))
        }
        return Result(
            status: exit.shellStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }
}

/// The metric names of `../shared/design/METRICS.md`, plus the exporter's extras the dashboard
/// shows (docs/metrics.md: `ballot_leader_id`, `ballot_leadership_transfers_total`,
/// `ballot_peer_queue_dropped_total`, the peer-trust series of issue 13) and Prometheus's own `up`.
private enum MetricCatalogue {
    static let plain: Set<String> = [
        "ballot_is_leader", "ballot_has_leader", "ballot_term", "ballot_role", "ballot_leader_changes_total",
        "ballot_elections_started_total", "ballot_leader_uptime_seconds", "ballot_leader_since_timestamp_seconds",
        "ballot_leader_last_contact_seconds", "ballot_step_downs_total", "ballot_heartbeats_sent_total",
        "ballot_heartbeat_failures_total", "ballot_peer_connected", "ballot_peer_messages_sent_total",
        "ballot_peer_messages_received_total", "ballot_peer_bytes_sent_total", "ballot_peer_bytes_received_total",
        "ballot_peer_frames_rejected_total", "ballot_cluster_members", "ballot_build_info",
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds",
        "process_open_fds",
        "ballot_leader_id", "ballot_leadership_transfers_total", "ballot_peer_queue_dropped_total", "up",
        // docs/metrics.md, "Durable state" (issue 16).
        "ballot_halted", "ballot_state_write_failures_total",
        "ballot_peer_auth_enabled", "ballot_peer_tls_certificate_expiry_timestamp_seconds",
    ]
    static let histograms: Set<String> = [
        "ballot_election_duration_seconds", "ballot_leaderless_duration_seconds",
        "ballot_peer_round_trip_time_seconds", "ballot_state_fsync_duration_seconds",
    ]

    static func allows(_ metric: String) -> Bool {
        if plain.contains(metric) { return true }
        for suffix in ["_bucket", "_sum", "_count"] where metric.hasSuffix(suffix) {
            if histograms.contains(String(metric.dropLast(suffix.count))) { return true }
        }
        return false
    }
}

/// The Grafana dashboard as plain JSON objects.
private struct Dashboard {
    var root: [String: Any]

    static func load() throws -> Dashboard {
        let data = try Data(contentsOf: Repo.root.appendingPathComponent("dashboards/ballot-overview.json"))
        let object = try JSONSerialization.jsonObject(with: data)
        return Dashboard(root: try #require(object as? [String: Any], "the dashboard is not a JSON object"))
    }

    /// Every panel, rows and the panels inside collapsed rows included.
    var allPanels: [[String: Any]] {
        let top = root["panels"] as? [[String: Any]] ?? []
        return top.flatMap { panel -> [[String: Any]] in [panel] + (panel["panels"] as? [[String: Any]] ?? []) }
    }

    /// Every panel except rows, including panels inside collapsed rows (one level, as Grafana has).
    var queryPanels: [[String: Any]] {
        let top = root["panels"] as? [[String: Any]] ?? []
        return top.flatMap { panel -> [[String: Any]] in
            panel["type"] as? String == "row" ? panel["panels"] as? [[String: Any]] ?? [] : [panel]
        }
    }

    static func expressions(_ panel: [String: Any]) -> [String] {
        (panel["targets"] as? [[String: Any]] ?? []).filter { $0["hide"] as? Bool != true }.compactMap { $0["expr"] as? String }
    }

    static func usesDataSourceVariable(_ value: Any?) -> Bool {
        guard let datasource = value as? [String: Any] else { return false }
        return datasource["uid"] as? String == "${datasource}" && datasource["type"] as? String == "prometheus"
    }
}

/// The alerting rules of a rules file, read line by line (promtool checks the structure; this
/// only needs each alert's labels and annotations, which alerts.yml writes as `key: value`, the
/// value plain or quoted).
private struct AlertRuleFile {
    var name: String
    var fields: [String: String]

    static func parse(_ text: String) -> [AlertRuleFile] {
        var rules: [AlertRuleFile] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("- alert:") {
                rules.append(AlertRuleFile(name: value(of: trimmed.dropFirst("- alert:".count)), fields: [:]))
            } else if trimmed.hasPrefix("- record:") {
                // Recording rules end the previous alert's block; nothing to collect.
                continue
            } else if !rules.isEmpty, let colon = trimmed.firstIndex(of: ":") {
                let key = String(trimmed[..<colon])
                if ["severity", "summary", "description", "runbook_url"].contains(key) {
                    rules[rules.count - 1].fields[key] = value(of: trimmed[trimmed.index(after: colon)...])
                }
            }
        }
        return rules
    }

    private static func value(of raw: Substring) -> String {
        var value = raw.trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
        if value.count >= 2, value.first == "'", value.last == "'" {
            value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
        }
        // A block scalar (`>-`, `|`) continues on the next lines; its presence is enough here.
        return value
    }
}

/// Finds the vector selectors (metric name and label matchers) of a PromQL expression: enough of
/// a lexer to skip strings, durations, numbers, functions, aggregations, keywords and the label
/// lists of `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`.
private enum PromQLSelectors {
    struct Selector: Equatable {
        var metric: String
        var matchers: String
    }

    struct ScanError: Error, CustomStringConvertible {
        var description: String
    }

    private enum Token: Equatable {
        case identifier(String)
        case matchers(String)
        case open, close, other
    }

    static let labelListKeywords: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]
    static let keywords: Set<String> = [
        "and", "or", "unless", "bool", "offset", "inf", "nan",
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
        "quantile", "limitk", "limit_ratio",
    ]

    static func scan(_ expr: String) throws -> [Selector] {
        let tokens = try tokenize(Array(expr))
        var selectors: [Selector] = []
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            switch token {
            case .identifier(let name) where labelListKeywords.contains(name.lowercased()):
                if index < tokens.count, tokens[index] == .open {
                    // Skip the label list up to its closing parenthesis.
                    while index < tokens.count, tokens[index] != .close { index += 1 }
                    index += 1
                }
            case .identifier(let name) where keywords.contains(name.lowercased()):
                continue
            case .identifier(let name):
                if index < tokens.count, tokens[index] == .open { continue }  // a function call
                var matchers = ""
                if index < tokens.count, case .matchers(let body) = tokens[index] {
                    matchers = body
                    index += 1
                }
                selectors.append(Selector(metric: name, matchers: matchers))
            case .matchers(let body):
                throw ScanError(description: "a selector without a metric name: {\(body)} in \(expr)")
            case .open, .close, .other:
                continue
            }
        }
        return selectors
    }

    private static func tokenize(_ chars: [Character]) throws -> [Token] {
        var tokens: [Token] = []
        var index = 0
        func isIdentifierStart(_ c: Character) -> Bool { c == "_" || c == ":" || (c.isASCII && c.isLetter) }
        func isIdentifierPart(_ c: Character) -> Bool { isIdentifierStart(c) || (c.isASCII && c.isNumber) }

        /// The index just past the string literal starting at `start`.
        func endOfString(_ start: Int) throws -> Int {
            let quote = chars[start]
            var i = start + 1
            while i < chars.count {
                if chars[i] == "\\" && quote != "`" {
                    i += 2
                    continue
                }
                if chars[i] == quote { return i + 1 }
                i += 1
            }
            throw ScanError(description: "unterminated string in \(String(chars))")
        }

        while index < chars.count {
            let c = chars[index]
            if c.isWhitespace {
                index += 1
            } else if c == "\"" || c == "'" || c == "`" {
                index = try endOfString(index)
                tokens.append(.other)
            } else if c == "$" {
                // A Grafana variable, `$name` or `${name}` (e.g. `offset ${__interval_ms}ms`): no selector.
                var end = index + 1
                if end < chars.count, chars[end] == "{" {
                    while end < chars.count, chars[end] != "}" { end += 1 }
                    end += 1
                }
                // The name, or a unit right after the braces (`${__interval_ms}ms`).
                while end < chars.count, isIdentifierPart(chars[end]) { end += 1 }
                tokens.append(.other)
                index = end
            } else if c == "{" {
                var i = index + 1
                while i < chars.count, chars[i] != "}" {
                    if chars[i] == "{" || chars[i] == "[" {
                        throw ScanError(description: "unbalanced braces in \(String(chars))")
                    }
                    i = (chars[i] == "\"" || chars[i] == "'" || chars[i] == "`") ? try endOfString(i) : i + 1
                }
                guard i < chars.count else { throw ScanError(description: "unclosed { in \(String(chars))") }
                tokens.append(.matchers(String(chars[(index + 1)..<i]).trimmingCharacters(in: .whitespaces)))
                index = i + 1
            } else if c == "[" {
                guard let close = chars[index...].firstIndex(of: "]") else {
                    throw ScanError(description: "unclosed [ in \(String(chars))")
                }
                tokens.append(.other)
                index = close + 1
            } else if c == "(" {
                tokens.append(.open)
                index += 1
            } else if c == ")" {
                tokens.append(.close)
                index += 1
            } else if c.isASCII && (c.isNumber || (c == "." && index + 1 < chars.count && chars[index + 1].isNumber)) {
                // A number, including 1e-3, 0x1F and 1.5; never a metric.
                index += 1
                while index < chars.count, chars[index].isASCII && (chars[index].isLetter || chars[index].isNumber || chars[index] == "."
                    || ((chars[index] == "-" || chars[index] == "+") && (chars[index - 1] == "e" || chars[index - 1] == "E")))
                {
                    index += 1
                }
                tokens.append(.other)
            } else if isIdentifierStart(c) {
                var end = index + 1
                while end < chars.count, isIdentifierPart(chars[end]) { end += 1 }
                tokens.append(.identifier(String(chars[index..<end])))
                index = end
            } else {
                tokens.append(.other)
                index += 1
            }
        }
        return tokens
    }
}
