/// The watches this client holds, by kind, as the server holds them for it.
///
/// A watch is recorded when the server's answer confirms it (the server registers it while
/// processing the request), fired by the first notification that concerns it, and handed to the
/// next server in `SetWatches` after a reconnect, so it survives a change of server.
struct WatchRegistry {
    /// `getData` watches, and `exists` watches on nodes that existed.
    private(set) var data: Set<String> = []
    /// `exists` watches on nodes that did not exist (they wait for a creation).
    private(set) var exist: Set<String> = []
    /// `getChildren` watches.
    private(set) var child: Set<String> = []

    var isEmpty: Bool { data.isEmpty && exist.isEmpty && child.isEmpty }

    /// Records the watch the answer to `request` confirms: any successful one, and `exists` on a
    /// missing node (`noNode`), which waits for the node's creation.
    mutating func confirm(_ request: ZooKeeperRequest, nodeExists: Bool) {
        switch request {
        case .exists(let path, true): if nodeExists { data.insert(path) } else { exist.insert(path) }
        case .getData(let path, true) where nodeExists: data.insert(path)
        case .getChildren(let path, true) where nodeExists: child.insert(path)
        default: break
        }
    }

    /// Removes the watches `event` fires, as the server does; false if none was set, in which case
    /// the event is not delivered (a watch fires once).
    mutating func fire(_ event: WatcherEvent) -> Bool {
        let path = event.path
        switch event.type {
        case .nodeCreated, .nodeDataChanged:
            let fired = data.remove(path) != nil
            return exist.remove(path) != nil || fired
        case .nodeDeleted:
            let firedData = data.remove(path) != nil
            let firedExist = exist.remove(path) != nil
            return child.remove(path) != nil || firedData || firedExist
        case .nodeChildrenChanged:
            return child.remove(path) != nil
        }
    }

    mutating func removeAll() { self = WatchRegistry() }

    /// The `SetWatches` requests that re-register every watch, each at most `maxBytes` of paths
    /// (ZooKeeper's own client splits them the same way, to stay under the server's frame limit).
    func setWatches(relativeZxid: Int64, maxBytes: Int) -> [SetWatches] {
        var batches: [SetWatches] = []
        var current = SetWatches(relativeZxid: relativeZxid, dataWatches: [], existWatches: [], childWatches: [])
        var bytes = 0
        func add(_ path: String, _ keyPath: WritableKeyPath<SetWatches, [String]>) {
            let size = 4 + path.utf8.count
            if bytes + size > maxBytes, bytes > 0 {
                batches.append(current)
                current = SetWatches(relativeZxid: relativeZxid, dataWatches: [], existWatches: [], childWatches: [])
                bytes = 0
            }
            current[keyPath: keyPath].append(path)
            bytes += size
        }
        for path in data.sorted() { add(path, \.dataWatches) }
        for path in exist.sorted() { add(path, \.existWatches) }
        for path in child.sorted() { add(path, \.childWatches) }
        if bytes > 0 { batches.append(current) }
        return batches
    }
}
