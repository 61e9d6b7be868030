import ArgumentParser
import BallotClient
import Foundation

/// `ballot status`: what one or more nodes believe, one line per node.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each known node: ID, role, term, leader, last contact.",
        discussion: """
            Asks the node(s) at --http for GET /status. With one address, its peers are listed as that node \
            sees them (role known only for the leader); give --http once per node for every node's own view.
            """
    )

    @Option(name: .customLong("http"), help: "HTTP address of a node: HOST:PORT, http://HOST:PORT or https://HOST:PORT (repeatable).")
    var addresses: [String] = ["127.0.0.1:9101"]

    @OptionGroup var client: HTTPClientOptions

    func run() async throws {
        print(Self.row("NODE", "ROLE", "TERM", "LEADER", "LAST CONTACT", "NOTE"))
        var failures = 0
        for address in addresses {
            do {
                let report = try await Self.fetch(try client.target(address))
                print(Self.row("\(report.id)", report.role + (report.isLeader ? "*" : ""), "\(report.term)",
                               report.leader.map(String.init) ?? "-", Self.milliseconds(report.lastContactMs),
                               report.halted.map { "HALTED: \($0)" } ?? "self, via \(address)"))
                if addresses.count == 1 {
                    for peer in report.peers {
                        let role = peer.id == report.leader ? "leader" : "follower?"
                        let note = (peer.connected ? "connected" : "disconnected")
                            + (peer.lastRoundTripMs.map { ", rtt \(Self.milliseconds($0))" } ?? "")
                        print(Self.row("\(peer.id)", role, "-", report.leader.map(String.init) ?? "-", "-",
                                       "seen by node \(report.id): \(note)"))
                    }
                }
            } catch {
                failures += 1
                print(Self.row("?", "unreachable", "-", "-", "-", "\(address): \(error)"))
            }
        }
        print("(* = leads and holds a quorum lease)")
        if failures == addresses.count { throw ExitCode(1) }
    }

    static func fetch(_ target: HTTPTarget) async throws -> NodeStatusReport {
        let response = try await HTTPClient.request(.GET, target, path: "/status")
        guard response.status == 200 else { throw ValidationError("HTTP \(response.status): \(response.text)") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(NodeStatusReport.self, from: Data(response.body))
    }

    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.1f ms", value)
    }

    static func row(_ columns: String...) -> String {
        let widths = [6, 13, 6, 8, 14]
        return columns.enumerated().map { index, text in
            index < widths.count ? text.padding(toLength: max(widths[index], text.count), withPad: " ", startingAt: 0) : text
        }.joined(separator: " ")
    }
}

/// `ballot transfer`: hand leadership to another node.
struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Ask the leader to hand leadership to another node, and report the outcome.",
        discussion: "The node at --http must be the current leader; otherwise it says which node is."
    )

    @Option(help: "HTTP address of the current leader (its admin listener if it has one): HOST:PORT, http://… or https://….")
    var http: String = "127.0.0.1:9101"

    @OptionGroup var client: HTTPClientOptions

    @Option(help: "ID of the node that should lead next.")
    var to: UInt64

    func run() async throws {
        let target = try client.target(http)
        let start = ContinuousClock.now
        let response = try await HTTPClient.request(.POST, target, path: "/transfer?to=\(to)", timeout: .seconds(30))
        let elapsed = ContinuousClock.now - start
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        if response.status == 200 {
            print("leadership transferred to node \(to) (term \(body["term"] ?? "?")) in \(String(format: "%.1f", elapsed.milliseconds)) ms")
        } else {
            let reason = body["error"] as? String ?? body["outcome"] as? String ?? response.text
            print("transfer to node \(to) failed: \(reason)")
            throw ExitCode(1)
        }
    }
}
