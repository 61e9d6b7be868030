#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension NodeConfiguration {
    /// Creates the data directory if needed and proves it writable by writing, syncing and
    /// removing a probe file, so that a bad `--data-dir` fails at startup with its reason rather
    /// than at the first vote. (Running as root, permission bits prove little; the probe does.)
    public func checkDataDirectory() throws(ConfigurationError) {
        let path = dataDirectory
        do throws(SystemCallError) {
            try FileSystem.makeDirectories(path)
        } catch {
            throw .dataDirectoryUnusable(path: path, .cannotCreate(error))
        }
        let probe = FileSystem.join(path, ".write-probe-\(getpid())")
        do throws(SystemCallError) {
            let fd = try FileSystem.openFile(probe, flags: O_WRONLY | O_CREAT | O_TRUNC)
            defer { FileSystem.closeFile(fd) }
            try FileSystem.writeAll(fd, Array("probe\n".utf8), path: probe)
            try FileSystem.syncFile(fd, path: probe)
        } catch {
            try? FileSystem.removeFile(probe)
            throw .dataDirectoryUnusable(path: path, .notWritable(error))
        }
        do throws(SystemCallError) {
            try FileSystem.removeFile(probe)
        } catch {
            throw .dataDirectoryUnusable(path: path, .notWritable(error))
        }
    }
}
