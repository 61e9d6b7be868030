import Foundation
import PackagePlugin

/// Writes the version and git revision this build comes from into `BallotBuildInfo`, before every
/// build: SwiftPM has no other way to generate code at build time, and a script run by hand could be
/// forgotten or go stale. The work is `scripts/build-info.sh` (git describe / rev-parse, "unknown"
/// outside a git checkout, `BALLOT_BUILD_VERSION`/`BALLOT_BUILD_REVISION` to override); it rewrites
/// the file only when the values change, so an unchanged revision recompiles nothing.
@main
struct RecordBuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = context.package.directoryURL.appending(path: "scripts/build-info.sh")
        var environment: [String: String] = [:]
        for name in ["BALLOT_BUILD_VERSION", "BALLOT_BUILD_REVISION", "PATH", "HOME"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment[name] = value }
        }
        return [
            .prebuildCommand(
                displayName: "Recording the version and git revision in BallotBuildInfo",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, context.package.directoryURL.path, output.path],
                environment: environment,
                outputFilesDirectory: output)
        ]
    }
}
