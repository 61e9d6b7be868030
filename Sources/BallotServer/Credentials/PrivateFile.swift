#if canImport(Glibc)
import Glibc
#endif

/// A file that holds a secret (the HTTP bearer token, a cluster secret): read whole, and only if it
/// is a regular file that not every user on the host may read or write (`ssh`'s rule for a key;
/// a group may, so that a Kubernetes Secret mounted for the pod's `fsGroup` works). The check is
/// made on the open file (`fstat`), so the file checked is the file read.
enum PrivateFile {
    enum Problem: Error, Hashable, Sendable {
        case unreadable(String)
        case notARegularFile
        /// Every user may read or write it (`o+r` or `o+w`).
        case worldAccessible(mode: UInt32)
        /// Larger than the limit the caller gave.
        case tooLarge
    }

    /// The file's bytes, at most `limit`.
    static func read(_ path: String, limit: Int) throws(Problem) -> [UInt8] {
        let fd: Int32
        do throws(SystemCallError) {
            fd = try FileSystem.openFile(path, flags: O_RDONLY)
        } catch {
            throw .unreadable(error.reason)
        }
        defer { FileSystem.closeFile(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(SystemCallError(operation: "fstat", path: path, code: errno).reason) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile }
        guard info.st_mode & (S_IROTH | S_IWOTH) == 0 else { throw .worldAccessible(mode: UInt32(info.st_mode & 0o777)) }
        let bytes: [UInt8]
        do throws(SystemCallError) {
            bytes = try FileSystem.readAll(fd, limit: limit, path: path)
        } catch {
            throw .unreadable(error.reason)
        }
        guard bytes.count <= limit else { throw .tooLarge }
        return bytes
    }
}
