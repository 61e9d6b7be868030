import BallotChildRun
import Foundation

/// Reading back the records of the leader-only writer (`ballot-writer`; the record format and the
/// writer itself are in BallotChildRun).
extension ChildRun {
    /// Every record in `directory`; a file that is not a record is reported, not skipped silently.
    public static func load(from directory: String) throws -> [ChildRun] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var runs: [ChildRun] = []
        for name in names.sorted() where name.hasSuffix(".rec") {
            let text = try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
            guard let run = ChildRun(line: text) else {
                throw Subprocess.Failure(description: "\(directory)/\(name) is not a child record: \(text.prefix(200))")
            }
            runs.append(run)
        }
        return runs.sorted { ($0.first, $0.pid) < ($1.first, $1.pid) }
    }

    /// The name of the writer's executable, built next to `ballot` (`swift build` builds both).
    public static let writerName = "ballot-writer"

    /// The writer's executable in the directory of `ballot` (the `ballot` binary a suite was given),
    /// or a failure that says how to build it.
    public static func writer(nextTo ballot: String) throws -> String {
        let directory = URL(fileURLWithPath: ballot).deletingLastPathComponent().path
        let path = "\(directory)/\(writerName)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Subprocess.Failure(description: """
                no \(writerName) next to \(ballot) (looked for \(path)): the sidecar writer is a program of its own; \
                build it with `swift build --product \(writerName)` (plain `swift build` builds it too) and keep it \
                in the same directory as ballot
                """)
        }
        return path
    }
}
