import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing credentials to disk: created fresh (never overwriting what is there), private ones
/// readable by their owner only, and synced, so a crash never leaves half a key behind.
public enum CredentialFiles {
    /// Private keys and secrets: owner read/write only. Ballot refuses a secret file that others can read.
    public static let privateMode: mode_t = 0o600
    /// Certificates are public: anyone may read them.
    public static let publicMode: mode_t = 0o644

    /// Creates `path` with `contents` and `mode`; refuses if it exists (``CertificateMakingError/exists(path:)``).
    public static func create(_ path: String, contents: [UInt8], mode: mode_t) throws(CertificateMakingError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw .exists(path: path) }
            throw .cannotWrite(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        // The umask may have taken bits away from `mode`; a private file must end up exactly private.
        guard fchmod(fd, mode) == 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        var written = 0
        while written < contents.count {
            let result = contents.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if result >= 0 {
                written += result
            } else if errno != EINTR {
                throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
        }
        guard fsync(fd) == 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    }

    public static func create(_ path: String, text: String, mode: mode_t) throws(CertificateMakingError) {
        try create(path, contents: Array(text.utf8), mode: mode)
    }

    /// Replaces `path` atomically (temporary file, then rename): for rotating a node's material in
    /// place while it runs, so that a SIGHUP never reads half a file.
    public static func replace(_ path: String, text: String, mode: mode_t) throws(CertificateMakingError) {
        let temporary = "\(path).new-\(getpid())"
        unlink(temporary)
        try create(temporary, text: text, mode: mode)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .cannotWrite(path: path, reason: reason)
        }
    }

    /// 32 bytes from the system's secure generator: a cluster secret for `--cluster-secret-file`.
    public static func randomSecret(byteCount: Int = 32) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
