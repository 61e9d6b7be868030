import ArgumentParser
import BallotClient
import Foundation

/// `ballot status`: what one or more nodes believe, one line per node.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every node: ID, role, term, leader, lease, last contact, version.",
        discussion: """
            Asks the node at --http for GET /status, then every other member at its advertised HTTP URL \
            (--advertise-http), in one call. A member that advertises no URL is listed as the asked node sees it. \
            With several --http addresses, each node's own view only.
            """
    )

    @Option(name: .customLong("http"), help: "HTTP address of a node: HOST:PORT, http://HOST:PORT or https://HOST:PORT (repeatable).")
    var addresses: [String] = ["127.0.0.1:9101"]

    @OptionGroup var client: HTTPClientOptions

    func run() async throws {
        print(Self.row("NODE", "ROLE", "TERM", "LEADER", "LEASE", "LAST CONTACT", "VERSION", "NOTE"))
        var failures = 0
        for address in addresses {
            do {
                let report = try await Self.fetch(try client.target(address))
                print(Self.row(report, note: "via \(address)"))
                if addresses.count == 1 { await printMembers(seenBy: report) }
            } catch {
                failures += 1
                print(Self.row("?", "unreachable", "-", "-", "-", "-", "-", "\(address): \(error)"))
            }
        }
        print("(* = leads and holds a quorum lease)")
        if failures == addresses.count { throw ExitCode(1) }
    }

    /// With one address: every other member's own report, from its advertised HTTP URL (issue 16,
    /// `etcdctl endpoint status --cluster` style), asked at once; a member that advertises no URL
    /// is shown as the asked node sees it, one that does not answer as unreachable.
    func printMembers(seenBy report: NodeStatusReport) async {
        let reports = await withTaskGroup(of: (UInt64, Result<NodeStatusReport, any Error>?).self) { group in
            for peer in report.peers {
                group.addTask {
                    guard let url = peer.http else { return (peer.id, nil) }
                    do {
                        return (peer.id, .success(try await Self.fetch(try client.target(url))))
                    } catch {
                        return (peer.id, .failure(error))
                    }
                }
            }
            var collected: [UInt64: Result<NodeStatusReport, any Error>?] = [:]
            for await (id, result) in group { collected[id] = result }
            return collected
        }
        for peer in report.peers {
            switch reports[peer.id] ?? nil {
            case .success(let own):
                print(Self.row(own, note: "via \(peer.http ?? "?")"))
            case .failure(let error):
                print(Self.row("\(peer.id)", "unreachable", "-", "-", "-", "-", "-", "\(peer.http ?? "?"): \(error)"))
            case nil:
                let role = peer.id == report.leader ? "leader" : "follower?"
                let note = (peer.connected ? "connected" : "disconnected")
                    + (peer.lastRoundTripMs.map { ", rtt \(Self.milliseconds($0))" } ?? "")
                print(Self.row("\(peer.id)", role, "-", report.leader.map(String.init) ?? "-", "-",
                               Self.milliseconds(peer.lastHeardMs), "-",
                               "seen by node \(report.id) (no --advertise-http): \(note)"))
            }
        }
    }

    static func row(_ report: NodeStatusReport, note: String) -> String {
        row("\(report.id)", report.role + (report.isLeader ? "*" : ""), "\(report.term)",
            report.leader.map(String.init) ?? "-", report.leaseRemainingMs.map { String(format: "%.0f ms", $0) } ?? "-",
            milliseconds(report.lastContactMs), report.version ?? "-",
            report.halted.map { "HALTED: \($0)" } ?? note)
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
        let widths = [6, 13, 6, 8, 10, 14, 16]
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
        discussion: "Ask any node: a follower carries the transfer out through the leader (at its advertised HTTP URL, with your token); without an advertised URL, ask the leader."
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
