import BallotClient
import Foundation
import Testing

/// `scripts/build-image.sh` builds a FROM-scratch image offline, and three containers of it on a
/// podman network — peers known only by DNS name, identity from the hostname, authenticated by a
/// mounted cluster secret — elect a leader and fail over when the leader's container is killed.
@Suite(.serialized) struct ContainerImageTests {
    /// podman as this machine needs it: runc, and ulimits within the sandbox's.
    static let podmanFlags = ["--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]

    @Test(.enabled(if: getuid() == 0 && isExecutable("podman")))
    func threeContainersElectAndFailOver() async throws {
        let output = try await succeed(repositoryRoot + "/scripts/build-image.sh", [packagesDirectory], timeout: .seconds(3600))
        print(output)
        let built = try #require(output.split(separator: "\n").last { $0.hasPrefix("built ") }, "\(output)")
        let tag = String(built.split(separator: " ")[1])
        let size = try await succeed("podman", ["image", "inspect", "--format", "{{.Size}}", tag])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        print("image \(tag): \(size) bytes")
        #expect((Int(size) ?? .max) < 128 << 20, "a static binary on scratch should stay small: \(size) bytes")

        // The image holds nothing but the binary, its configuration and the data directory.
        let history = try await succeed("podman", ["image", "inspect", "--format", "{{.Config.User}} {{.Config.Entrypoint}}", tag])
        #expect(history.contains("65532:65532") && history.contains("/usr/bin/ballotd"), "\(history)")

        let prefix = "bt\(UInt16.random(in: 1000...9999))"
        let network = prefix + "-net"
        // Off loopback the nodes insist on peer authentication: a cluster secret, mounted as
        // docs/deployment.md shows (owned by the container's user, mode 0600).
        let secretDirectory = NSTemporaryDirectory() + "\(prefix)-peer"
        try FileManager.default.createDirectory(atPath: secretDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: secretDirectory) }
        let secretPath = secretDirectory + "/cluster.secret"
        var secret = [UInt8](repeating: 0, count: 32)
        for index in secret.indices { secret[index] = UInt8.random(in: 0...255) }
        try Data(secret).write(to: URL(fileURLWithPath: secretPath))
        #expect(chown(secretPath, 65532, 65532) == 0 && chmod(secretPath, 0o600) == 0)
        #expect(chmod(secretDirectory, 0o755) == 0)
        try await succeed("podman", ["network", "create", network])
        var containers: [String] = []
        do {
            for ordinal in 0..<3 {
                let name = "\(prefix)-\(ordinal)"
                try await succeed("podman", ["run", "-d"] + Self.podmanFlags + [
                    "--network", network, "--name", name, "--hostname", name,
                    "-e", "BALLOT_ID_FROM_HOSTNAME=true", "-e", "BALLOT_MEMBERS=3",
                    "-e", "BALLOT_PEER_ADDRESS_TEMPLATE=\(prefix)-{ordinal}:7001",
                    "-e", "BALLOT_ELECTION_TIMEOUT=500ms", "-e", "BALLOT_HEARTBEAT_INTERVAL=100ms",
                    "-e", "BALLOT_LOG_FORMAT=json",
                    "-v", "\(secretDirectory):/etc/ballot/peer:ro",
                    "-e", "BALLOT_CLUSTER_SECRET_FILE=/etc/ballot/peer/cluster.secret", tag,
                ])
                containers.append(name)
            }
            var addresses: [String: String] = [:]
            for name in containers {
                addresses[name] = try await succeed(
                    "podman", ["inspect", "--format", "{{(index .NetworkSettings.Networks \"\(network)\").IPAddress}}", name]
                ).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let first = try #require(await leader(among: containers, addresses: addresses, timeout: .seconds(30)),
                                     "no leader among the containers")
            // Peers were given only as DNS names: every node connects to both others. (Followers
            // reach each other a little after the election: their first attempts met names not yet
            // registered, and they back off; so this is polled, bounded.)
            for name in containers {
                var connected = 0
                let deadline = ContinuousClock.now + .seconds(15)
                while ContinuousClock.now < deadline {
                    let metrics = (try? await HTTPClient.request(.GET, host: addresses[name]!, port: 9100, path: "/metrics").text) ?? ""
                    connected = metrics.split(separator: "\n").filter {
                        $0.hasPrefix("ballot_peer_connected{") && Double($0.split(separator: " ").last ?? "") == 1
                    }.count
                    if connected == 2 { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(connected == 2, "\(name) is connected to \(connected) of its 2 peers")
            }
            let leaderName = containers[Int(first.view.self_) - 1]
            try await succeed("podman", ["kill", "--signal", "KILL", leaderName])
            let survivors = containers.filter { $0 != leaderName }
            let second = await leader(among: survivors, addresses: addresses, timeout: .seconds(30), newerThan: first.view.term)
            #expect(second != nil, "no failover after killing \(leaderName)")
            if let second { print("failover: node \(first.view.self_) term \(first.view.term) → node \(second.view.self_) term \(second.view.term)") }
            let logs = try await run("podman", ["logs", survivors[0]])
            #expect(logs.combined.contains("\"event\":\"leader_elected\""), "\(logs.combined.suffix(2000))")
        } catch {
            for name in containers {
                let logs = try? await run("podman", ["logs", name])
                print("--- \(name) ---\n\(logs?.combined.suffix(3000) ?? "")")
            }
            await remove(containers, network: network)
            throw error
        }
        await remove(containers, network: network)
    }

    func remove(_ containers: [String], network: String) async {
        for name in containers { _ = try? await run("podman", ["rm", "-f", "-t", "0", name]) }
        _ = try? await run("podman", ["network", "rm", "-f", network])
    }

    /// Polls each container's `/leader` (on its address on the podman network) until exactly one
    /// reports itself leader in a term above `newerThan`.
    func leader(among names: [String], addresses: [String: String], timeout: Duration, newerThan term: UInt64 = 0)
        async -> (name: String, view: LeaderView)?
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var leaders: [(String, LeaderView)] = []
            for name in names {
                guard let address = addresses[name],
                      let response = try? await HTTPClient.request(.GET, host: address, port: 9100, path: "/leader", timeout: .milliseconds(500)),
                      let view = try? JSONDecoder().decode(LeaderView.self, from: Data(response.body))
                else { continue }
                if view.isLeader && view.term > term { leaders.append((name, view)) }
            }
            if leaders.count == 1 { return leaders[0] }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
