import Foundation
import Testing

/// Keeps `dashboards/` honest: the alert rules pass the real `promtool` (`check rules` and the
/// unit tests of `alerts.test.yml`), every alert of the metrics catalogue has a rule, tests and a
/// runbook, and the Grafana dashboard is importable and queries only catalogued metrics.
///
/// `promtool` comes with Debian's `prometheus` package, which `scripts/test.sh` installs; without
/// it these tests fail (they never skip), as do they without `python3`.
@Suite("Alert rules and dashboard", .serialized)
struct AlertRulesTests {
    /// The alerts `../shared/design/METRICS.md` says we ship.
    static let expectedAlerts = [
        "BallotFrequentLeaderChanges", "BallotNoLeader", "BallotSplitBrain", "BallotInsufficientMembers",
        "BallotSlowElections", "BallotPeerUnreachable", "BallotFramesRejected",
    ]

    // MARK: promtool

    @Test("promtool check rules accepts dashboards/alerts.yml")
    func rulesAreValid() async throws {
        let promtool = try Tool.require("promtool", package: "prometheus")
        let result = try await Tool.run(promtool, ["check", "rules", "dashboards/alerts.yml"])
        #expect(result.status == 0, "promtool check rules failed:\n\(result.combined)")
        #expect(result.stdout.contains("SUCCESS"), "\(result.combined)")
    }

    @Test("promtool test rules passes dashboards/alerts.test.yml")
    func ruleUnitTestsPass() async throws {
        let promtool = try Tool.require("promtool", package: "prometheus")
        let result = try await Tool.run(promtool, ["test", "rules", "dashboards/alerts.test.yml"])
        #expect(result.status == 0, "promtool test rules failed:\n\(result.combined)")
        #expect(result.stdout.contains("SUCCESS"), "\(result.combined)")
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
            #expect(rule.fields["runbook_url"] == "docs/operations.md#\(rule.name.lowercased())",
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

    @Test("the dashboard is importable: DS_PROMETHEUS input, variables, every panel queries it")
    func dashboardStructure() throws {
        let dashboard = try Dashboard.load()
        let root = dashboard.root

        let inputs = root["__inputs"] as? [[String: Any]] ?? []
        #expect(inputs.contains { $0["name"] as? String == "DS_PROMETHEUS" && $0["pluginId"] as? String == "prometheus"
            && $0["type"] as? String == "datasource" }, "__inputs must declare DS_PROMETHEUS")
        #expect((root["schemaVersion"] as? Int ?? 0) >= 36, "schemaVersion")
        #expect(!(root["refresh"] as? String ?? "").isEmpty, "refresh")
        #expect((root["time"] as? [String: Any])?["from"] is String, "time range")
        #expect(!(root["uid"] as? String ?? "").isEmpty && !(root["title"] as? String ?? "").isEmpty)

        let variables = (root["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for name in ["cluster", "instance"] {
            let variable = variables.first { $0["name"] as? String == name }
            #expect(variable?["type"] as? String == "query", "variable \(name)")
            #expect(Dashboard.usesInputDataSource(variable?["datasource"]), "variable \(name): datasource")
            let definition = variable?["definition"] as? String ?? ""
            #expect(definition.hasPrefix("label_values(") && definition.contains(", \(name))"),
                    "variable \(name): \(definition)")
        }

        let panels = dashboard.queryPanels
        #expect(!panels.isEmpty)
        var ids: Set<Int> = []
        var titles: Set<String> = []
        for panel in panels {
            let title = panel["title"] as? String ?? ""
            #expect(!title.isEmpty, "a panel without a title")
            #expect(titles.insert(title).inserted, "duplicate panel title \(title)")
            #expect(ids.insert(panel["id"] as? Int ?? -1).inserted, "\(title): duplicate or missing id")
            #expect(Dashboard.usesInputDataSource(panel["datasource"]), "\(title): datasource must be ${DS_PROMETHEUS}")
            let grid = panel["gridPos"] as? [String: Int] ?? [:]
            #expect((grid["w"] ?? 0) > 0 && (grid["h"] ?? 0) > 0 && (grid["x"] ?? 0) + (grid["w"] ?? 0) <= 24,
                    "\(title): gridPos \(grid)")

            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "\(title): no queries")
            var refIDs: Set<String> = []
            for target in targets {
                #expect(!(target["expr"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                        "\(title): empty query")
                #expect(refIDs.insert(target["refId"] as? String ?? "").inserted, "\(title): duplicate refId")
                #expect(Dashboard.usesInputDataSource(target["datasource"]), "\(title): target datasource")
            }
        }

        let types = Set(panels.compactMap { $0["type"] as? String })
        for type in ["stat", "timeseries", "heatmap", "state-timeline"] {
            #expect(types.contains(type), "no \(type) panel")
        }
        let metrics = Set(try panels.flatMap(Dashboard.expressions).flatMap { try PromQLSelectors.scan($0).map(\.metric) })
        for required in [
            "ballot_leader_changes_total", "ballot_election_duration_seconds_bucket",
            "ballot_leaderless_duration_seconds_bucket", "ballot_leader_uptime_seconds",
            "ballot_leader_last_contact_seconds", "ballot_peer_round_trip_time_seconds_bucket",
            "ballot_peer_frames_rejected_total", "ballot_role", "ballot_term",
            "process_cpu_seconds_total", "process_resident_memory_bytes",
        ] {
            #expect(metrics.contains(required), "no panel shows \(required)")
        }
    }

    @Test("every dashboard query uses catalogued metrics, filtered by $cluster and $instance")
    func dashboardSelectors() throws {
        let dashboard = try Dashboard.load()
        for panel in dashboard.queryPanels {
            let title = panel["title"] as? String ?? ""
            for expr in Dashboard.expressions(panel) {
                let selectors = try PromQLSelectors.scan(expr)
                #expect(!selectors.isEmpty, "\(title): no metric in \(expr)")
                for selector in selectors {
                    #expect(MetricCatalogue.allows(selector.metric), "\(title): \(selector.metric) is not in METRICS.md")
                    let matchers = selector.matchers.replacingOccurrences(of: " ", with: "")
                    #expect(matchers.contains(#"cluster=~"$cluster""#) && matchers.contains(#"instance=~"$instance""#),
                            "\(title): \(selector.metric){\(selector.matchers)} must filter by $cluster and $instance")
                }
            }
        }
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
        try JSONSerialization.data(withJSONObject: rules, options: [.sortedKeys]).write(to: file)
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
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = Repo.root
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()

        let pollsPerSecond = 50
        var finished = false
        for _ in 0..<(timeoutSeconds * pollsPerSecond) {
            if !process.isRunning {
                finished = true
                break
            }
            try await Task.sleep(for: .milliseconds(1000 / pollsPerSecond))
        }
        if !finished {
            process.terminate()
            for _ in 0..<(5 * pollsPerSecond) where process.isRunning {
                try await Task.sleep(for: .milliseconds(1000 / pollsPerSecond))
            }
            throw TimedOut(command: ([executable] + arguments).joined(separator: " "))
        }
        return Result(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }
}

/// The metric names of `../shared/design/METRICS.md`, plus `ballot_leader_id` (the exporter's ID
/// of the known leader) and Prometheus's own `up`.
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
        "ballot_leader_id", "up",
    ]
    static let histograms: Set<String> = [
        "ballot_election_duration_seconds", "ballot_leaderless_duration_seconds",
        "ballot_peer_round_trip_time_seconds",
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

    static func usesInputDataSource(_ value: Any?) -> Bool {
        guard let datasource = value as? [String: Any] else { return false }
        return datasource["uid"] as? String == "${DS_PROMETHEUS}" && datasource["type"] as? String == "prometheus"
    }
}

/// The alerting rules of a rules file, read line by line (promtool checks the structure; this
/// only needs each alert's labels and annotations, which alerts.yml writes as `key: value`).
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
