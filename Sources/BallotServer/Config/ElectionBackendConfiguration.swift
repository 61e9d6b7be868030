import BallotBackends

/// What elects a node's leader, with that backend's validated settings.
public enum ElectionBackendConfiguration: Hashable, Sendable {
    /// Ballot's own peer protocol and election core (`--algorithm raft|bully|ring`).
    case raft
    case etcd(EtcdBackendConfiguration)
    case zookeeper(ZooKeeperBackendConfiguration)

    public var kind: BackendKind {
        switch self {
        case .raft: .raft
        case .etcd: .etcd
        case .zookeeper: .zookeeper
        }
    }

    /// Builds the backend named `kind` from merged settings, with each backend's defaults.
    init(_ kind: BackendKind, _ settings: NodeSettings) throws(ConfigurationError) {
        switch kind {
        case .raft:
            self = .raft
        case .etcd:
            guard let endpoints = settings.etcdEndpoints else { throw .missingSetting(.etcdEndpoints) }
            let tls = EtcdTLSFiles(caFile: settings.etcdCAFile, certificateFile: settings.etcdCertFile,
                                   keyFile: settings.etcdKeyFile)
            do throws(EtcdConfigurationError) {
                self = .etcd(try EtcdBackendConfiguration(
                    endpoints: endpoints, election: settings.election ?? .default,
                    leaseTTL: settings.leaseTTL ?? EtcdBackendConfiguration.defaultLeaseTTL, tls: tls,
                    credentialsFile: settings.etcdCredentialsFile))
            } catch {
                throw .etcd(error)
            }
        case .zookeeper:
            guard let servers = settings.zookeeper else { throw .missingSetting(.zookeeper) }
            do throws(ZooKeeperBackendConfigurationError) {
                self = .zookeeper(try ZooKeeperBackendConfiguration(
                    servers: servers, election: settings.election ?? .default,
                    sessionTimeout: settings.sessionTimeout ?? ZooKeeperBackendConfiguration.defaultSessionTimeout,
                    followerLag: settings.zookeeperFollowerLag ?? ZooKeeperBackendConfiguration.defaultFollowerLag))
            } catch {
                throw .zooKeeper(error)
            }
        }
    }
}
