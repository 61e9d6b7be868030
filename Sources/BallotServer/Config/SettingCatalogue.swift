import BallotBackends
import BallotCore
import Logging

/// The catalogue of settings: the one place where each setting is described. The switch is
/// exhaustive, so a new ``ConfigurationKey`` case does not compile until it is described here.
///
/// Flags, environment variables, the YAML reader, `--print-config` and the table in
/// docs/configuration.md (checked by a test) are all derived from these entries.
extension ConfigurationKey {
    public var descriptor: SettingDescriptor {
        switch self {
        case .id:
            SettingDescriptor(
                self, \.id, .nodeID, "node ID",
                help: "This node's ID: a positive integer, unique in the cluster. Required unless id_from_hostname is set.",
                example: "1")
        case .listen:
            SettingDescriptor(
                self, \.listen, .address, "peer listen address",
                help: "Address the peer listener binds, HOST:PORT (e.g. 127.0.0.1:7001). Required.",
                example: "127.0.0.1:7001", backends: [.raft])
        case .http:
            SettingDescriptor(
                self, \.http, .address, "HTTP address",
                help: "Address of the HTTP endpoint (/ status page, /metrics, /healthz, /readyz, /leader, /events, /primary, /status, /transfer, /resign, /candidacy), HOST:PORT.",
                default: "off", example: "127.0.0.1:9101")
        case .dataDirectory:
            SettingDescriptor(
                self, \.dataDirectory,
                .text(valueName: "DIR", expected: "a directory path") { text throws(ConfigurationError) in
                    guard !text.isEmpty else { throw .dataDirectoryUnusable(path: text, .empty) }
                },
                "data directory",
                help: "Directory for this node's durable state (term and vote; with etcd or zookeeper, the highest fencing token). Created if missing; one node per directory. Required.",
                example: "/var/lib/ballot")
        case .cluster:
            SettingDescriptor(
                self, \.cluster, .clusterName, "cluster name",
                help: "Cluster name; nodes of different clusters refuse each other.",
                default: NodeConfiguration.defaultCluster.rawValue, example: "prod-eu")
        case .electionTimeout:
            SettingDescriptor(
                self, \.electionTimeout, .duration, "election timeout",
                help: "Election timeout T; timeouts are drawn from [T, 2T). The same on every member.",
                default: DurationParser.format(NodeConfiguration.defaultElectionTimeout), example: "1s", backends: [.raft])
        case .heartbeatInterval:
            SettingDescriptor(
                self, \.heartbeatInterval, .duration, "heartbeat interval",
                help: "Leader heartbeat interval, at most T/3. The same on every member.",
                default: DurationParser.format(NodeConfiguration.defaultHeartbeatInterval), example: "100ms", backends: [.raft])
        case .maxFrameSize:
            SettingDescriptor(
                self, \.maxFrameSize, .integer(valueName: "BYTES", expected: "a whole number of bytes"), "max frame size",
                help: "Largest peer-protocol frame sent or accepted, in bytes (1024 to 16777216).",
                default: "\(NodeConfiguration.defaultMaxFrameSize)", example: "65536", backends: [.raft])
        case .algorithm:
            SettingDescriptor(
                self, \.algorithm,
                .choice(valueName: "NAME") { text throws(ConfigurationError) in try ElectionAlgorithmKind(parsing: text) },
                "election algorithm",
                help: "Election algorithm. ballotd runs raft only; `ballot serve` also runs bully and ring, for comparison.",
                default: NodeConfiguration.defaultAlgorithm.rawValue, example: "raft", backends: [.raft])
        case .peers:
            SettingDescriptor(
                self, \.peers, .peers, "peers",
                help: "The other members, ID=HOST:PORT. Repeat the flag for each peer; the environment variable takes a comma-separated list.",
                default: "none", example: "2=127.0.0.1:7002", backends: [.raft])
        case .peerTLSCertificate:
            SettingDescriptor(
                self, \.peerTLSCertificate, .filePath, "peer TLS certificate",
                help: "This node's peer TLS certificate (PEM) with the URI SAN ballot://<cluster>/<id>; with peer_tls_key and peer_tls_ca, peers speak mutual TLS 1.3 (`ballot certs` makes them).",
                default: "off", example: "/etc/ballot/node-1.pem", backends: [.raft])
        case .peerTLSKey:
            SettingDescriptor(
                self, \.peerTLSKey, .filePath, "peer TLS private key",
                help: "The private key (PEM) of peer_tls_cert; not readable by every user.",
                default: "off", example: "/etc/ballot/node-1-key.pem", backends: [.raft])
        case .peerTLSCA:
            SettingDescriptor(
                self, \.peerTLSCA, .filePath, "peer TLS CA certificate",
                help: "The CA certificate(s) (PEM) every peer's certificate must chain to; during a CA rotation, both CAs.",
                default: "off", example: "/etc/ballot/ca.pem", backends: [.raft])
        case .clusterSecretFile:
            SettingDescriptor(
                self, \.clusterSecretFile, .filePath, "cluster secret file",
                help: "A file of 32–1024 secret bytes shared by every member (mode 0600, e.g. `openssl rand -out cluster.secret 32`): peers must prove they know it.",
                default: "off", example: "/etc/ballot/cluster.secret", backends: [.raft])
        case .clusterSecretAlsoAccept:
            SettingDescriptor(
                self, \.clusterSecretAlsoAccept, .filePaths, "further accepted cluster secret files",
                help: "Another secret file whose proofs are accepted too, while rotating the secret. Repeat the flag for each; the environment variable takes a comma-separated list, the file a list.",
                default: "none", example: "/etc/ballot/cluster-next.secret", backends: [.raft])
        case .insecurePeers:
            SettingDescriptor(
                self, \.insecurePeers, .boolean, "unauthenticated peers off loopback",
                help: "Allow a listen address off loopback without TLS or a cluster secret (anyone who reaches the port can take part in elections).",
                default: "false", example: "true", backends: [.raft])
        case .peerHandshakeTimeout:
            SettingDescriptor(
                self, \.peerHandshakeTimeout, .duration, "peer handshake deadline",
                help: "Close a peer connection that has not completed TLS, the handshake and the proof after this long (100ms–60s).",
                default: DurationParser.format(PeerTrustConfiguration.defaultHandshakeTimeout), example: "5s", backends: [.raft])
        case .peerMaxPendingHandshakes:
            SettingDescriptor(
                self, \.peerMaxPendingHandshakes, .integer(valueName: "N", expected: "a whole number of connections"),
                "cap on peer connections still handshaking",
                help: "At most this many accepted peer connections may be handshaking at once; more are closed at once (1–10000).",
                default: "\(PeerTrustConfiguration.defaultMaxPendingHandshakes)", example: "64", backends: [.raft])
        case .priority:
            SettingDescriptor(
                self, \.priority, .priority, "leadership priority",
                help: "Leadership priority, 0 (lowest) to 65535. The leader hands over to an eligible, caught-up member of higher priority once it has been healthy for preempt_after. Raft only.",
                default: "\(NodeConfiguration.defaultPriority)", example: "10", backends: [.raft])
        case .preemptAfter:
            SettingDescriptor(
                self, \.preemptAfter, .duration, "preemption window",
                help: "How long a member of higher priority must be eligible, caught up and answering (with every member answering) before the leader hands over to it; also the least time between two such hand-overs. At least the election timeout.",
                default: "30s, or the election timeout if longer", example: "30s", backends: [.raft])
        case .advertiseHTTP:
            SettingDescriptor(
                self, \.advertiseHTTP,
                .text(valueName: "URL", expected: "a URL such as http://10.0.0.1:9101") { text throws(ConfigurationError) in
                    guard NodeConfiguration.isValidAdvertisedURL(text) else { throw .invalidAdvertisedURL(text) }
                },
                "advertised HTTP URL",
                help: "The http:// or https:// URL clients and other members reach this node's HTTP endpoint at; every member learns it, so any node names the leader's (leader_http in GET /leader).",
                default: "off", example: "http://10.0.0.1:9101", backends: [.raft])
        case .resignHoldOff:
            SettingDescriptor(
                self, \.resignHoldOff, .duration, "resign hold-off",
                help: "How long a leader that resigned (POST /resign without hold_off=, or an embedded whileLeader body that returned) refrains from campaigning; at most 5m.",
                default: "the election timeout", example: "2s", backends: [.raft])
        case .leaseRelease:
            SettingDescriptor(
                self, \.leaseRelease, .choice(valueName: "WHEN"), "lease release",
                help: "When an ended lease stops binding the successor: holders (once every registered holder - whileLeader bodies, ballot run sidecars - confirmed it stopped, so hand-overs take milliseconds) or deadline (at the published deadline, for applications that act on /events or /primary without registering).",
                default: LeaseRelease.holders.rawValue, example: "deadline", backends: [.raft])
        case .leaseDuration:
            SettingDescriptor(
                self, \.leaseDuration, .duration, "lease duration",
                help: "Cap the leader's lease below the longest the election timeout allows (about 0.86 of it), so that after a leader crashes its successor's lease - and a ballot run child - starts sooner: it waits about 1.1 times the lease instead of the election timeout. Holders must then stop whenever renewals are late by more than what is left of it. At least two heartbeat intervals; the same on every member.",
                default: "the longest the election timeout allows", example: "100ms", backends: [.raft])
        case .backend:
            SettingDescriptor(
                self, \.backend, .choice(valueName: "NAME"), "election backend",
                help: "What elects the leader: raft (Ballot's own peers), or etcd or zookeeper (a coordination service you run; no peers, no listen).",
                default: BackendKind.raft.rawValue, example: "etcd")
        case .election:
            SettingDescriptor(
                self, \.election, .electionName, "election name",
                help: "The election's name on etcd or ZooKeeper, 1–128 characters of A–Z a–z 0–9 . _ -; candidates live under /ballot/elections/NAME, so several elections share one service.",
                default: ElectionName.default.rawValue, example: "orders", backends: [.etcd, .zookeeper])
        case .etcdEndpoints:
            SettingDescriptor(
                self, \.etcdEndpoints, .etcdEndpoints, "etcd endpoints",
                help: "etcd client URLs, http://HOST:PORT or https://HOST:PORT, comma-separated (a YAML list in a file). Required with etcd.",
                example: "http://127.0.0.1:2379", backends: [.etcd])
        case .leaseTTL:
            SettingDescriptor(
                self, \.leaseTTL, .duration, "etcd lease TTL",
                help: "The etcd lease's time to live, whole seconds from 1s to 24h; kept alive every TTL/3.",
                default: DurationParser.format(EtcdBackendConfiguration.defaultLeaseTTL), example: "5s", backends: [.etcd])
        case .etcdCredentialsFile:
            SettingDescriptor(
                self, \.etcdCredentialsFile, .filePath, "etcd credentials file",
                help: "File holding the etcd user and password as one line USER:PASSWORD, read at start-up; the credentials are never logged, printed or shown in /status.",
                default: "off", example: "/etc/ballot/etcd-credentials", backends: [.etcd])
        case .etcdCAFile:
            SettingDescriptor(
                self, \.etcdCAFile, .filePath, "etcd CA file",
                help: "PEM CA that signed the etcd members' certificates (https:// endpoints); without it, the system's roots.",
                example: "/etc/ballot/etcd-ca.pem", backends: [.etcd])
        case .etcdCertFile:
            SettingDescriptor(
                self, \.etcdCertFile, .filePath, "etcd client certificate file",
                help: "PEM client certificate for etcd, when its members require one (--client-cert-auth); with etcd_key_file. With etcd's authentication on, it must have no CommonName (the JSON gateway refuses one).",
                default: "off", example: "/etc/ballot/etcd-client.pem", backends: [.etcd])
        case .etcdKeyFile:
            SettingDescriptor(
                self, \.etcdKeyFile, .filePath, "etcd client key file",
                help: "PEM private key of etcd_cert_file.",
                default: "off", example: "/etc/ballot/etcd-client-key.pem", backends: [.etcd])
        case .zookeeper:
            SettingDescriptor(
                self, \.zookeeper, .zooKeeperServers, "ZooKeeper servers",
                help: "The ZooKeeper ensemble, HOST:PORT, comma-separated (a YAML list in a file), without a chroot. Required with zookeeper.",
                example: "127.0.0.1:2181", backends: [.zookeeper])
        case .sessionTimeout:
            SettingDescriptor(
                self, \.sessionTimeout, .duration, "ZooKeeper session timeout",
                help: "The ZooKeeper session timeout asked for, 500ms to 10m; the ensemble clamps it to its own bounds (by default 2 to 20 ticks).",
                default: DurationParser.format(ZooKeeperBackendConfiguration.defaultSessionTimeout), example: "4s",
                backends: [.zookeeper])
        case .zookeeperFollowerLag:
            SettingDescriptor(
                self, \.zookeeperFollowerLag, .durationOrZero, "ZooKeeper follower lag",
                help: "How long a ZooKeeper follower cut off from its leader may go on answering: the ensemble's syncLimit × tickTime + tickTime/2 (the default is syncLimit 10 × tickTime 200ms + 100ms); 0s for a standalone server. Part of the claim margin.",
                default: DurationParser.format(ZooKeeperBackendConfiguration.defaultFollowerLag), example: "2.1s",
                backends: [.zookeeper])
        case .adminHTTP:
            SettingDescriptor(
                self, \.adminHTTP, .address, "admin HTTP address",
                help: "Second HTTP listener, HOST:PORT, the only one serving routes that change the node (POST /transfer, POST /resign, PUT /candidacy), e.g. on loopback while http is exposed.",
                default: "off", example: "127.0.0.1:9201")
        case .httpIdleTimeout:
            SettingDescriptor(
                self, \.httpIdleTimeout, .duration, "HTTP idle timeout",
                help: "Close an HTTP connection that waits this long for its next request.",
                default: DurationParser.format(HTTPLimits().idleTimeout), example: "60s")
        case .httpRequestTimeout:
            SettingDescriptor(
                self, \.httpRequestTimeout, .duration, "HTTP request timeout",
                help: "A request must arrive whole within this long of its first byte; a new connection's first request within this long of connecting.",
                default: DurationParser.format(HTTPLimits().requestTimeout), example: "10s")
        case .httpMaxHeadSize:
            SettingDescriptor(
                self, \.httpMaxHeadSize, .integer(valueName: "BYTES", expected: "a whole number of bytes"),
                "largest HTTP request head",
                help: "Largest HTTP request head in bytes; larger ones get 431.",
                default: "\(HTTPLimits().maxHeadSize)", example: "16384")
        case .httpMaxConnections:
            SettingDescriptor(
                self, \.httpMaxConnections, .integer(valueName: "N", expected: "a number of connections"),
                "HTTP connection cap",
                help: "Open HTTP connections per listener; above it the longest-idle one is closed, or the new one gets 503.",
                default: "\(HTTPLimits().maxConnections)", example: "1024")
        case .httpMaxStreams:
            SettingDescriptor(
                self, \.httpMaxStreams, .integer(valueName: "N", expected: "a number of streams"), "HTTP/2 stream cap",
                help: "Concurrent streams per HTTP/2 connection.",
                default: "\(HTTPLimits().maxStreams)", example: "100")
        case .httpTLSCert:
            SettingDescriptor(
                self, \.httpTLSCert, .filePath, "HTTP TLS certificate",
                help: "PEM certificate (chain) for HTTPS; with http_tls_key, both listeners speak TLS, offering h2 and http/1.1.",
                default: "off", example: "/etc/ballot/http.pem")
        case .httpTLSKey:
            SettingDescriptor(
                self, \.httpTLSKey, .filePath, "HTTP TLS private key",
                help: "PEM private key of http_tls_cert.",
                default: "off", example: "/etc/ballot/http-key.pem")
        case .httpTLSClientCA:
            SettingDescriptor(
                self, \.httpTLSClientCA, .filePath, "HTTP client CA",
                help: "PEM CA: client certificates are verified against it, and a verified one may change the node.",
                default: "off", example: "/etc/ballot/clients-ca.pem")
        case .httpTokenFile:
            SettingDescriptor(
                self, \.httpTokenFile, .filePath, "HTTP bearer token file",
                help: "File holding the bearer token that routes changing the node require (Authorization: Bearer <token>); not readable by every user.",
                default: "off", example: "/etc/ballot/http-token")
        case .httpAuthReads:
            SettingDescriptor(
                self, \.httpAuthReads, .boolean, "HTTP authorization of reads",
                help: "Require the token or a client certificate for reads too (by default reads are open).",
                default: "false", example: "true")
        case .idFromHostname:
            SettingDescriptor(
                self, \.idFromHostname, .boolean, "ID from the hostname",
                help: "Take the node ID from the hostname's ordinal suffix -N as N+1 (a Kubernetes StatefulSet pod ballot-0 is node 1).",
                default: "false", example: "true")
        case .members:
            SettingDescriptor(
                self, \.members, .integer(valueName: "N", expected: "a number of members"), "member count",
                help: "Cluster size N: the members are nodes 1…N and their addresses come from peer_address_template.",
                example: "3", backends: [.raft])
        case .peerAddressTemplate:
            SettingDescriptor(
                self, \.peerAddressTemplate, .peerAddressTemplate, "peer address template",
                help: "Every member's peer address, with {ordinal} (ID − 1) or {id} in it, e.g. ballot-{ordinal}.ballot-peers:7001; used with members.",
                example: "ballot-{ordinal}.ballot-peers:7001", backends: [.raft])
        case .logLevel:
            SettingDescriptor(
                self, \.logLevel, .choice(valueName: "LEVEL"), "log level",
                help: "The least severe level written: trace, debug, info, notice, warning, error or critical.",
                default: NodeConfiguration.defaultLogLevel.rawValue, example: "info")
        case .logFormat:
            SettingDescriptor(
                self, \.logFormat, .choice(valueName: "FORMAT"), "log format",
                help: "Log lines on standard error: text (for people), json or logfmt (one record per line, for collectors).",
                default: NodeConfiguration.defaultLogFormat.rawValue, example: "json")
        case .events:
            SettingDescriptor(
                self, \.events, .boolean, "event lines",
                help: "Print each leadership change and each move of this node's lease deadline as a key=value line on standard output (used by `ballot local` and `ballot faults`).",
                default: "false", example: "true")
        case .config:
            SettingDescriptor(
                self, \.config, .text(valueName: "FILE", expected: "a file path"), "configuration file",
                help: "YAML configuration file; flags and environment variables override its keys.",
                example: "/etc/ballot/ballotd.yaml", sources: [.flag, .environment])
        }
    }
}
