import ArgumentParser
import BallotClient
import BallotCore
import BallotServer
import Foundation

/// `ballot recover-state`: the hard state for a node whose own was lost with its host, written so
/// that the node can never vote twice in one term.
///
/// A node with an empty data directory starts at term 0 with no vote. If it had voted in term X
/// before its disk was lost, it could vote again in X for another candidate, and two candidates
/// could each count a quorum in X. Every vote the lost node gave to another candidate C is in a
/// term C has persisted, so C's term is at least X now; a term the lost node only voted for itself
/// in was never won (winning takes a quorum, which would have adopted the term). So starting the
/// node at M = the highest term of every other member, with its vote in M already cast (for
/// itself), leaves it only terms it has never voted in. That needs every other member's term:
/// the command refuses unless each of them answers, none of them still has a connection to the
/// lost node, and the data directory holds no state (if it does, the state was not lost — keep it).
struct RecoverStateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover-state",
        abstract: "Write the term and vote for a node whose data directory was lost, from every other member's term.",
        discussion: """
            Use it when replacing a failed host whose data directory cannot be moved (docs/operations.md, \
            "Replacing a failed host"). Give --http once for EVERY other member; the command refuses unless all of \
            them answer, none of them is still connected to node --id, and --data-dir holds no hard state. It writes \
            term = the highest term among them, with the vote in that term already cast, so the node cannot vote \
            twice in any term. Run it on the new host before starting the node; recover one node at a time.
            """
    )

    @Option(help: "ID of the node being replaced.")
    var id: UInt64

    @Option(help: "Cluster name (the node's --cluster).")
    var cluster: String = "ballot"

    @Option(help: "The new, empty data directory of the node (its --data-dir).")
    var dataDir: String

    @Option(name: .customLong("http"), help: "HTTP address of another member (repeat for every other member).")
    var addresses: [String] = []

    @OptionGroup var client: HTTPClientOptions

    func run() async throws {
        guard let node = NodeID(id) else { throw ValidationError("--id must be a positive node ID") }
        let clusterName = try ClusterName(configured: cluster)
        let path = dataDir + "/" + HardStateStore.fileName
        if FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path) exists: this node's hard state was not lost. Start the node with it (or move it to the new host) instead of recovering.")
        }
        guard !addresses.isEmpty else { throw ValidationError("give --http for every other member of the cluster") }

        var reports: [NodeStatusReport] = []
        for address in addresses {
            do {
                reports.append(try await StatusCommand.fetch(try client.target(address)))
            } catch {
                throw ValidationError("\(address) did not answer (\(error)). Every other member's term is needed: bring it back first, or wait.")
            }
        }
        if let alive = reports.first(where: { $0.id == id }) {
            throw ValidationError("node \(alive.id) answers itself: it is not lost. Never run two processes with one node ID.")
        }
        let members = Set(reports.map(\.id) + reports.flatMap { $0.peers.map(\.id) })
        guard members.contains(id) else {
            throw ValidationError("no member lists node \(id) as a peer: is --id right, and are these nodes its cluster?")
        }
        let missing = members.subtracting(reports.map(\.id)).subtracting([id]).sorted()
        guard missing.isEmpty else {
            throw ValidationError("no answer for node(s) \(missing.map(String.init).joined(separator: ", ")): give --http for every other member; each one's term is needed.")
        }
        let connected = reports.filter { $0.peers.contains { $0.id == id && $0.connected } }.map(\.id)
        guard connected.isEmpty else {
            throw ValidationError("node(s) \(connected.map(String.init).joined(separator: ", ")) still have a connection to node \(id): the old process is running somewhere. Stop it for good first.")
        }

        let highest = reports.map(\.term).max() ?? 0
        let state = HardState(term: Term(highest), votedFor: node)
        do {
            let store = try HardStateStore(directory: dataDir, cluster: clusterName, node: node)
            try store.save(state)
        } catch {
            throw ValidationError("cannot write \(path): \(error)")
        }
        print("wrote \(path): \(state) (the highest term of nodes \(reports.map { String($0.id) }.sorted().joined(separator: ", ")), its vote in it already cast); start node \(id) now")
    }
}
