#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The process's open-file limit. Each HTTP connection and each peer connection is a descriptor,
/// and the usual soft limit (1024) is below the HTTP connection cap's default; above it `accept`
/// fails and even `/healthz` cannot be reached. So a node raises its soft limit to the hard limit
/// the system grants, as Go's runtime does, and warns when that is still too low for its caps.
public enum OpenFileLimit {
    /// Raises the soft limit to the hard one; warns if fewer than `needed` (+ a margin for peers,
    /// files and the event loops) descriptors are available. Returns the soft limit now in force.
    @discardableResult
    public static func raise(toServe needed: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let available = Int(clamping: limit.rlim_cur)
        let margin = 256
        if available < needed + margin {
            logger.warning("the open-file limit is below what the HTTP connection cap needs; raise it (ulimit -n, LimitNOFILE=) or lower --http-max-connections",
                           metadata: ["limit": "\(available)", "needed": "\(needed + margin)"])
        }
        return available
    }
}
