import BallotCore
import Foundation

extension ComparisonMatrix {
    /// A 2×2 SVG chart of the headline measurements against cluster size (log scale): election
    /// messages after a leader crash and on a cold start (log–log, so a slope of 1 is O(n) and 2 is
    /// O(n²)), time to a stable leader after a leader crash, and split brain during a partition.
    public func svg() -> String {
        let panels: [ChartPanel] = [
            panel(
                "Election messages after a leader crash", scenario: .leaderCrash, unit: "messages (log)",
                logY: true) { $0.messagesMean },
            panel("Election messages on a cold start", scenario: .coldStart, unit: "messages (log)", logY: true) {
                $0.messagesMean
            },
            panel(
                "Time to a stable leader after a leader crash", scenario: .leaderCrash,
                unit: "mean, in election timeouts T", logY: false
            ) { cell in cell.stableMeanMilliseconds.map { $0 / settings.electionTimeoutMilliseconds } },
            panel(
                "Split brain during a 10 T partition", scenario: .partition, unit: "mean, ms of two leaders",
                logY: false) { $0.splitBrainMeanMilliseconds },
        ]
        let width = 1000.0
        let height = 780.0
        var svg = SVGWriter(width: width, height: height)
        svg.text("Ballot: Raft, Bully and Ring measured in one simulator", x: width / 2, y: 26, size: 18, anchor: "middle",
                 weight: "bold")
        // The conditions in two lines: timing, then network and sample size.
        let split = conditions.range(of: ", one-way").map {
            [String(conditions[..<$0.lowerBound]), String(conditions[$0.upperBound...]).replacingOccurrences(
                of: "^ ", with: "", options: .regularExpression)]
        } ?? [conditions]
        for (index, line) in split.enumerated() {
            let text = index == 0 ? line : "one-way " + line
            svg.text(text, x: width / 2, y: 44 + Double(index) * 14, size: 11, anchor: "middle", color: "#444")
        }
        for (index, panel) in panels.enumerated() {
            let column = Double(index % 2)
            let row = Double(index / 2)
            panel.draw(into: &svg, frame: (x: 20 + column * 490, y: 84 + row * 330, width: 470, height: 300))
        }
        var legendX = width / 2 - 150
        for algorithm in ElectionAlgorithmKind.allCases where settings.algorithms.contains(algorithm) {
            svg.line(x1: legendX, y1: height - 22, x2: legendX + 28, y2: height - 22, color: algorithm.chartColor, width: 3)
            svg.text(algorithm.rawValue, x: legendX + 34, y: height - 18, size: 13)
            legendX += 110
        }
        return svg.finish()
    }

    private func panel(
        _ title: String, scenario: ComparisonScenario, unit: String, logY: Bool,
        value: (ComparisonCell) -> Double?
    ) -> ChartPanel {
        var series: [ChartSeries] = []
        for algorithm in ElectionAlgorithmKind.allCases where settings.algorithms.contains(algorithm) {
            let points = cells.filter { $0.algorithm == algorithm && $0.scenario == scenario && $0.runs > 0 }
                .sorted { $0.nodes < $1.nodes }
                .compactMap { cell in value(cell).map { (x: Double(cell.nodes), y: $0) } }
            series.append(ChartSeries(name: algorithm.rawValue, color: algorithm.chartColor, points: points))
        }
        return ChartPanel(title: title, yLabel: unit, logY: logY, series: series)
    }
}

extension ElectionAlgorithmKind {
    var chartColor: String {
        switch self {
        case .raft: "#1f77b4"
        case .bully: "#d62728"
        case .ring: "#2ca02c"
        }
    }
}

struct ChartSeries {
    var name: String
    var color: String
    var points: [(x: Double, y: Double)]
}

/// One line chart with a logarithmic x axis (cluster size) and a linear or logarithmic y axis.
struct ChartPanel {
    var title: String
    var yLabel: String
    var logY: Bool
    var series: [ChartSeries]

    func draw(into svg: inout SVGWriter, frame: (x: Double, y: Double, width: Double, height: Double)) {
        let plot = (x: frame.x + 62, y: frame.y + 30, width: frame.width - 80, height: frame.height - 75)
        svg.text(title, x: frame.x + frame.width / 2, y: frame.y + 16, size: 14, anchor: "middle", weight: "bold")
        svg.rect(x: plot.x, y: plot.y, width: plot.width, height: plot.height)
        let points = series.flatMap(\.points)
        guard !points.isEmpty else {
            svg.text("no data", x: plot.x + plot.width / 2, y: plot.y + plot.height / 2, size: 12, anchor: "middle")
            return
        }
        let xs = points.map(\.x)
        let xMin = log10(xs.min()!)
        let xMax = max(log10(xs.max()!), xMin + 0.1)
        let ys = points.map(\.y).filter { !logY || $0 > 0 }
        var (yMin, yMax) = (0.0, max(ys.max() ?? 1, 1e-9))
        if logY {
            yMin = floor(log10(max(ys.min() ?? 1, 1e-3)))
            yMax = max(ceil(log10(yMax)), yMin + 1)
        } else {
            yMax = niceCeiling(yMax * 1.05)
        }
        func px(_ x: Double) -> Double { plot.x + (log10(x) - xMin) / (xMax - xMin) * plot.width }
        func py(_ y: Double) -> Double {
            let value = logY ? log10(max(y, pow(10, yMin))) : y
            return plot.y + plot.height - (value - yMin) / (yMax - yMin) * plot.height
        }
        // Axes: a tick at every measured size; decades or five even steps on y.
        for x in Set(xs).sorted() {
            svg.line(x1: px(x), y1: plot.y + plot.height, x2: px(x), y2: plot.y + plot.height + 4, color: "#333", width: 1)
            svg.text(String(Int(x)), x: px(x), y: plot.y + plot.height + 16, size: 10, anchor: "middle")
        }
        svg.text("cluster size n (log scale)", x: plot.x + plot.width / 2, y: plot.y + plot.height + 32, size: 11,
                 anchor: "middle", color: "#444")
        let yTicks: [Double] = logY
            ? stride(from: yMin, through: yMax, by: 1).map { pow(10, $0) }
            : (0...5).map { Double($0) * yMax / 5 }
        for y in yTicks {
            svg.line(x1: plot.x, y1: py(y), x2: plot.x + plot.width, y2: py(y), color: "#e5e5e5", width: 1)
            svg.text(axisLabel(y), x: plot.x - 6, y: py(y) + 4, size: 10, anchor: "end")
        }
        svg.text(yLabel, x: frame.x + 12, y: plot.y + plot.height / 2, size: 11, anchor: "middle", color: "#444",
                 rotate: -90)
        for line in series where !line.points.isEmpty {
            svg.polyline(line.points.map { (px($0.x), py($0.y)) }, color: line.color)
            for point in line.points { svg.circle(cx: px(point.x), cy: py(point.y), r: 3, color: line.color) }
        }
    }

    private func niceCeiling(_ value: Double) -> Double {
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    private func axisLabel(_ value: Double) -> String {
        if value >= 10_000 { return String(format: "%.0fk", value / 1000) }
        if value == value.rounded() { return String(Int(value)) }
        return String(format: "%.2g", value)
    }
}

/// A minimal SVG document builder: just the shapes the charts use, with escaped text.
struct SVGWriter {
    private var parts: [String]

    init(width: Double, height: Double) {
        parts = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" "#
                + #"viewBox="0 0 \#(Int(width)) \#(Int(height))" font-family="Helvetica, Arial, sans-serif">"#,
            #"<rect width="100%" height="100%" fill="white"/>"#,
        ]
    }

    mutating func text(
        _ content: String, x: Double, y: Double, size: Double, anchor: String = "start", weight: String = "normal",
        color: String = "#111", rotate: Double? = nil
    ) {
        let transform = rotate.map { #" transform="rotate(\#(f($0)) \#(f(x)) \#(f(y)))""# } ?? ""
        parts.append(
            #"<text x="\#(f(x))" y="\#(f(y))" font-size="\#(f(size))" text-anchor="\#(anchor)" "#
                + #"font-weight="\#(weight)" fill="\#(color)"\#(transform)>\#(escape(content))</text>"#)
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, color: String, width: Double) {
        parts.append(
            #"<line x1="\#(f(x1))" y1="\#(f(y1))" x2="\#(f(x2))" y2="\#(f(y2))" stroke="\#(color)" "#
                + #"stroke-width="\#(f(width))"/>"#)
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double) {
        parts.append(
            #"<rect x="\#(f(x))" y="\#(f(y))" width="\#(f(width))" height="\#(f(height))" fill="none" "#
                + ##"stroke="#999" stroke-width="1"/>"##)
    }

    mutating func polyline(_ points: [(Double, Double)], color: String) {
        let list = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        parts.append(#"<polyline points="\#(list)" fill="none" stroke="\#(color)" stroke-width="2.5"/>"#)
    }

    mutating func circle(cx: Double, cy: Double, r: Double, color: String) {
        parts.append(#"<circle cx="\#(f(cx))" cy="\#(f(cy))" r="\#(f(r))" fill="\#(color)"/>"#)
    }

    func finish() -> String { (parts + ["</svg>"]).joined(separator: "\n") + "\n" }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
