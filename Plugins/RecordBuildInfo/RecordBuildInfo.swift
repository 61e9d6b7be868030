import Foundation
import PackagePlugin

/// Writes the version and git revision this build comes from into `BallotBuildInfo`: SwiftPM has no
/// other way to generate code at build time, and a script run by hand could be forgotten or go
/// stale. The work is `scripts/build-info.sh` (git describe / rev-parse, "unknown" outside a git
/// checkout, `BALLOT_BUILD_VERSION`/`BALLOT_BUILD_REVISION` to override).
///
/// It is a build command, re-run whenever one of its inputs changed: git's record of the checked-out
/// commit (`HEAD`, `logs/HEAD`), the index and the tags — so a commit, a checkout, a tag or staging
/// changes the version — and every source file of the package, so that an edit marks the build
/// `-dirty`. (A prebuild command would be simpler, but SwiftPM runs those only when it plans the
/// build, which it caches until the manifest changes: the revision went stale.)
@main
struct RecordBuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildInfo+Generated.swift")
        var inputs = [root.appending(path: "scripts/build-info.sh"), root.appending(path: "Package.swift")]
        inputs += gitFiles(in: root)
        for sourceTarget in context.package.targets.compactMap({ $0 as? SourceModuleTarget }) {
            inputs += sourceTarget.sourceFiles.map(\.url)
        }
        var environment: [String: String] = [:]
        for name in ["BALLOT_BUILD_VERSION", "BALLOT_BUILD_REVISION", "PATH", "HOME"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment[name] = value }
        }
        return [
            .buildCommand(
                displayName: "Recording the version and git revision in BallotBuildInfo",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [root.appending(path: "scripts/build-info.sh").path, root.path, output.path],
                environment: environment, inputFiles: inputs, outputFiles: [output])
        ]
    }

    /// The files git changes on a commit, checkout, reset, tag or `git add`, where they exist.
    private func gitFiles(in root: URL) -> [URL] {
        func git(_ arguments: [String]) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", root.path] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return nil }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let gitDirectory = git(["rev-parse", "--absolute-git-dir"]) else { return [] }
        let common = git(["rev-parse", "--path-format=absolute", "--git-common-dir"]) ?? gitDirectory
        let candidates = [
            "\(gitDirectory)/HEAD", "\(gitDirectory)/logs/HEAD", "\(gitDirectory)/index",
            "\(common)/packed-refs", "\(common)/refs/tags",
        ]
        return candidates.filter { FileManager.default.fileExists(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }
}
