import Foundation
import Testing

/// Checks that `scripts/build-release.sh` laid out `binary`'s code in the order of
/// `deploy/ballotd.order`, the functions a starting and idling node runs: that list is what keeps an
/// idle node's resident code at a few MiB (docs/performance.md), and nothing else would notice if the
/// build stopped applying it or the list went stale.
func checkCodeLayout(of binary: String) async throws {
    let order = try String(contentsOfFile: repositoryRoot + "/deploy/ballotd.order", encoding: .utf8)
        .split(separator: "\n").map(String.init)
    #expect(order.count > 1000, "deploy/ballotd.order lists only \(order.count) functions")
    var address: [String: UInt64] = [:]
    for line in try await succeed("nm", ["--defined-only", binary], timeout: .seconds(300)).split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count == 3, "tTwW".contains(fields[1]), let value = UInt64(fields[0], radix: 16) else { continue }
        address[String(fields[2])] = value
    }
    let placed = order.compactMap { address[$0] }
    // A stale list (functions renamed or gone) lays out less and less of what really runs.
    let found = Double(placed.count) / Double(max(order.count, 1))
    #expect(found > 0.9, "only \(placed.count) of the \(order.count) functions in deploy/ballotd.order are in \(binary): regenerate it with scripts/profile-code-order.sh")
    // Laid out in list order, consecutive functions have increasing addresses, except where a
    // library without per-function sections (the Swift standard library, Foundation) places a whole
    // section at its first listed function: 91 % of pairs when measured; without the ordering 51 %.
    let increasing = zip(placed, placed.dropFirst()).filter { $0 < $1 }.count
    let share = Double(increasing) / Double(max(placed.count - 1, 1))
    #expect(share > 0.75, "\(binary) is not laid out in the order of deploy/ballotd.order (\(Int(share * 100)) % of consecutive functions in order): does scripts/build-release.sh still pass --symbol-ordering-file?")
    print("code layout: \(placed.count) of \(order.count) listed functions in \(binary), \(Int(share * 100)) % of consecutive pairs in order")
}
