import ArgumentParser
import BallotCertificates
import BallotCore
import BallotNodeCommand

/// `ballot certs`: a CA and node certificates for mutual TLS on the peer protocol.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create a CA and node certificates (URI SAN ballot://<cluster>/<id>) for mutual TLS between peers.",
        discussion: """
            Writes into --dir: ca.pem and ca-key.pem (a new P-256 CA, unless both are there already, in which \
            case it signs with that one), and node-<id>.pem / node-<id>-key.pem for each node. Keys and the \
            secret are written with mode 0600, certificates 0644; nothing is ever overwritten. Give each node \
            its own certificate and key plus ca.pem; keep ca-key.pem off the nodes. To make the same files \
            with openssl, see docs/security.md.
            Example: ballot certs --dir ./certs --cluster prod --nodes 3 --secret
            """
    )

    @Option(help: "Directory to write into (created if missing).")
    var dir: String

    @Option(help: "Cluster name the certificates are for (the nodes' --cluster).")
    var cluster: String = "ballot"

    @Option(help: "Make certificates for nodes 1…N.")
    var nodes: Int?

    @Option(name: .customLong("node"), help: "Make a certificate for this node ID (repeatable), e.g. to add a member later.")
    var nodeIDs: [UInt64] = []

    @Option(help: "Validity of the node certificates in days.")
    var days: Int = 365

    @Flag(help: "Also write cluster.secret: 32 random bytes for --cluster-secret-file.")
    var secret = false

    func validate() throws {
        guard nodes != nil || !nodeIDs.isEmpty else { throw ValidationError("give --nodes N or one or more --node ID") }
        if let nodes, !(1...999).contains(nodes) { throw ValidationError("--nodes must be between 1 and 999") }
        guard nodeIDs.allSatisfy({ $0 > 0 }) else { throw ValidationError("--node takes positive node IDs") }
        guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
        do { _ = try ClusterName(cluster) } catch { throw ValidationError("--cluster: \(error)") }
    }

    func run() throws {
        let name = try ClusterName(cluster)
        let ids = (nodes.map { Array(1...UInt64($0)) } ?? []) + nodeIDs
        let members = Array(Set(ids)).sorted().compactMap(NodeID.init)
        let credentials = ClusterCredentials(directory: dir, cluster: name)
        do {
            try credentials.create(nodes: members, secret: secret, validity: .seconds(days * 86_400))
        } catch {
            CommandLineErrors.fail("ballot certs: \(error)")
        }
        print("wrote into \(dir): ca.pem, ca-key.pem (keep it off the nodes)"
              + (secret ? ", cluster.secret" : "") + " and for each node:")
        for node in members {
            let flags = credentials.nodeArguments(for: node, tls: true, secret: secret).joined(separator: " ")
            print("  node \(node) (ballot://\(name)/\(node)): \(flags)")
        }
    }
}
