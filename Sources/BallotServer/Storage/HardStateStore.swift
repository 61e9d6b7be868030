#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BallotCore
import BallotRuntime

/// The node's durable `HardState` (term, vote, last log position) in `<data-dir>/hard-state`.
///
/// Opening the store creates the directory if needed, takes the directory's lock, removes
/// temporary files a crash left behind, and reads the state; a file it cannot trust makes the
/// open fail, so there is no way to obtain a store — and so to overwrite the file — without
/// having read it. ``save(_:)`` replaces the file atomically: write a temporary file in the same
/// directory, fsync it, rename it over the old one, fsync the directory. When `save` returns, the
/// state survives a crash or power loss; when it throws, the old or the new state is on disk, never
/// a mix, and the caller must not act on the new state (send the vote, say). Carry out the core's
/// `persist` actions through `save` before anything that follows them.
///
/// Blocking: every call does file I/O and `save` waits for the disk. Calls from several threads
/// are safe (each save has its own temporary file), but their order on disk is the order in which
/// they rename, so one owner — the node's actor — should make them.
public final class HardStateStore: DurableStateStore, Sendable {
    public static let fileName = "hard-state"
    /// Temporary files are `hard-state.tmp-<random>`; any left at open are from a crash mid-save.
    public static let temporaryFilePrefix = "hard-state.tmp-"

    public let directory: String
    /// `<directory>/hard-state`.
    public let path: String
    public let cluster: ClusterName
    public let node: NodeID
    /// What the file held at open, or `HardState.initial` for a fresh node.
    public let recoveredState: HardState

    private let lock: DataDirectoryLock
    /// Told how long each fsync took and of each failed save (the node's metrics).
    private let observer: (any HardStateStoreObserver)?

    public init(
        directory: String, cluster: ClusterName, node: NodeID, observer: (any HardStateStoreObserver)? = nil
    ) throws(StateStoreError) {
        do throws(SystemCallError) {
            try FileSystem.makeDirectories(directory)
        } catch {
            throw .io(error)
        }
        let lock = try DataDirectoryLock(directory: directory)
        let path = FileSystem.join(directory, Self.fileName)
        try Self.removeTemporaryFiles(in: directory)
        self.recoveredState = try Self.read(path: path, cluster: cluster, node: node)
        self.lock = lock
        self.directory = directory
        self.path = path
        self.cluster = cluster
        self.node = node
        self.observer = observer
    }

    /// Opens the store in the configuration's data directory, for its cluster and node.
    public convenience init(
        configuration: NodeConfiguration, observer: (any HardStateStoreObserver)? = nil
    ) throws(StateStoreError) {
        try self.init(
            directory: configuration.dataDirectory, cluster: configuration.cluster, node: configuration.id,
            observer: observer)
    }

    /// Reads the file again: the stored state, `.initial` if there is no file.
    public func load() throws(StateStoreError) -> HardState {
        try Self.read(path: path, cluster: cluster, node: node)
    }

    /// Makes `state` durable, replacing what was stored.
    public func save(_ state: HardState) throws(StateStoreError) {
        do throws(StateStoreError) {
            try write(state)
        } catch {
            observer?.stateWriteFailed()
            throw error
        }
    }

    private func write(_ state: HardState) throws(StateStoreError) {
        let bytes = HardStateFile.encode(state, cluster: cluster, node: node)
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        let temporary = FileSystem.join(directory, Self.temporaryFilePrefix + suffix)
        do throws(SystemCallError) {
            let fd = try FileSystem.openFile(temporary, flags: O_WRONLY | O_CREAT | O_EXCL)
            do throws(SystemCallError) {
                try FileSystem.writeAll(fd, bytes, path: temporary)
                try timed { () throws(SystemCallError) in try FileSystem.syncFile(fd, path: temporary) }
            } catch {
                FileSystem.closeFile(fd)
                try? FileSystem.removeFile(temporary)
                throw error
            }
            FileSystem.closeFile(fd)
            do throws(SystemCallError) {
                try FileSystem.renameFile(temporary, to: path)
            } catch {
                try? FileSystem.removeFile(temporary)
                throw error
            }
            try timed { () throws(SystemCallError) in try FileSystem.syncDirectory(directory) }
        } catch {
            throw .io(error)
        }
    }

    /// Runs one fsync and reports how long it took, on the monotonic clock.
    private func timed(_ sync: () throws(SystemCallError) -> Void) throws(SystemCallError) {
        let start = ContinuousClock.now
        try sync()
        observer?.stateSynced(after: ContinuousClock.now - start)
    }

    // MARK: - Internals

    private static func read(path: String, cluster: ClusterName, node: NodeID) throws(StateStoreError) -> HardState {
        let contents: [UInt8]?
        do throws(SystemCallError) {
            contents = try FileSystem.readFileIfPresent(path, limit: HardStateFile.maximumSize)
        } catch {
            throw .io(error)
        }
        guard let bytes = contents else { return .initial }
        guard bytes.count <= HardStateFile.maximumSize else {
            throw .corrupt(path: path, detail: "it is larger than \(HardStateFile.maximumSize) bytes")
        }
        let decoded = try HardStateFile.decode(bytes, path: path)
        try StateFileIdentity.check(cluster: decoded.cluster, node: decoded.node, against: cluster, node: node, path: path)
        return decoded.state
    }

    /// A temporary file is only ever renamed into place after it was complete and synced, so one
    /// still lying around was never the stored state; removing it loses nothing.
    private static func removeTemporaryFiles(in directory: String) throws(StateStoreError) {
        do throws(SystemCallError) {
            for name in try FileSystem.listDirectory(directory) where name.hasPrefix(temporaryFilePrefix) {
                try FileSystem.removeFile(FileSystem.join(directory, name))
            }
        } catch {
            throw .io(error)
        }
    }
}

/// Told how saving the hard state goes: the node's metrics (`ballot_state_fsync_duration_seconds`,
/// `ballot_state_write_failures_total`).
public protocol HardStateStoreObserver: AnyObject, Sendable {
    /// One fsync of a save (the new file, or its directory) took `duration`.
    func stateSynced(after duration: Duration)
    /// A save failed; the store's previous state is still the durable one.
    func stateWriteFailed()
}
