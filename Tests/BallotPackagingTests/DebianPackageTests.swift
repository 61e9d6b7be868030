import BallotClient
import BallotHarness
import Foundation
import Testing

/// `scripts/package-deb.sh` builds a package that installs on this machine, whose binaries, man
/// pages, completions, configuration and unit work, that `systemd-analyze verify` and lintian
/// accept, and that removes cleanly.
@Suite(.serialized) struct DebianPackageTests {
    @Test(.enabled(if: getuid() == 0 && isExecutable("dpkg-deb") && isExecutable("lintian")))
    func thePackageInstallsRunsAndPassesLintian() async throws {
        let output = try await succeed(repositoryRoot + "/scripts/package-deb.sh", [packagesDirectory], timeout: .seconds(3600))
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("built ") }, "\(output)")
        let package = String(line.dropFirst("built ".count).split(separator: " ")[0])
        let name = URL(fileURLWithPath: package).lastPathComponent
        #expect(name.hasPrefix("ballot_") && name.hasSuffix("_amd64.deb"), "\(name)")
        print("package: \(line.dropFirst("built ".count))")
        try await checkCodeLayout(of: repositoryRoot + "/.build/deploy/release/ballotd")

        // Contents.
        let contents = try await succeed("dpkg-deb", ["--contents", package])
        for path in [
            "./usr/bin/ballotd", "./usr/bin/ballot", "./lib/systemd/system/ballotd.service", "./etc/ballot/ballotd.yaml",
            "./etc/default/ballotd", "./usr/share/man/man1/ballotd.1.gz", "./usr/share/man/man1/ballot.1.gz",
            "./usr/share/man/man1/ballot.serve.1.gz", "./usr/share/bash-completion/completions/ballotd",
            "./usr/share/zsh/vendor-completions/_ballot", "./usr/share/fish/vendor_completions.d/ballotd.fish",
            "./usr/share/doc/ballot/copyright", "./usr/share/doc/ballot/changelog.gz",
            "./usr/share/doc/ballot/deployment.md",
        ] {
            #expect(contents.contains(" \(path)\n"), "the package lacks \(path)")
        }
        print("contents:\n" + contents)
        let info = try await succeed("dpkg-deb", ["--info", package])
        print(info)

        // lintian: report everything, fail on errors.
        let lintian = try await run("lintian", ["--info", "--display-info", "--pedantic", "--no-tag-display-limit", package],
                                    timeout: .seconds(600))
        print("lintian (exit \(lintian.status)):\n\(lintian.combined)")
        try? lintian.combined.write(toFile: packagesDirectory + "/lintian.txt", atomically: true, encoding: .utf8)
        let errors = lintian.combined.split(separator: "\n").filter { $0.hasPrefix("E: ") }
        #expect(errors.isEmpty, "lintian errors:\n\(errors.joined(separator: "\n"))")

        // Install, use, verify the unit, remove.
        _ = try? await run("dpkg", ["--purge", "ballot"])
        try await succeed("dpkg", ["-i", package], timeout: .seconds(300))
        do {
            try await checkInstalled()
        } catch {
            _ = try? await run("dpkg", ["--purge", "ballot"])
            throw error
        }
        try await succeed("dpkg", ["--purge", "ballot"], timeout: .seconds(300))
        #expect(!FileManager.default.fileExists(atPath: "/usr/bin/ballotd"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/ballot/ballotd.yaml"), "purge removes the conffiles")
    }

    func checkInstalled() async throws {
        let revision = try await gitRevision()
        let version = try await succeed("/usr/bin/ballotd", ["--version"])
        #expect(version.contains(revision), "\(version)")
        #expect(try await succeed("/usr/bin/ballot", ["--version"]) == version)
        #expect(try await succeed("/usr/bin/ballot", ["--help"]).contains("serve"))

        // The shipped configuration makes a valid node.
        let printout = try await succeed("/usr/bin/ballotd", ["--config", "/etc/ballot/ballotd.yaml", "--print-config"])
        #expect(printout.contains("data_dir: /var/lib/ballot"), "\(printout)")

        // Man pages and completions are found where the tools look.
        #expect(try await succeed("man", ["-w", "ballotd"]).contains("/usr/share/man/man1/ballotd.1.gz"))
        let rendered = try await succeed("man", ["-P", "cat", "ballotd"], environment: ["MANWIDTH": "100"])
        #expect(rendered.contains("--election-timeout") && rendered.contains("BALLOT_ELECTION_TIMEOUT"))
        let bash = try String(contentsOfFile: "/usr/share/bash-completion/completions/ballotd", encoding: .utf8)
        #expect(bash.contains("complete") && bash.contains("--peer-address-template"))

        // The unit: systemd-analyze verify says nothing bad about it (it checks the ExecStart
        // binary exists, the directives parse, the security settings are known).
        let verify = try await run("systemd-analyze", ["verify", "/lib/systemd/system/ballotd.service"])
        print("systemd-analyze verify (exit \(verify.status)): \(verify.combined)")
        #expect(verify.status == 0, "\(verify.combined)")
        #expect(!verify.combined.contains("ballotd.service:"), "warnings about the unit: \(verify.combined)")
        let unit = try String(contentsOfFile: "/lib/systemd/system/ballotd.service", encoding: .utf8)
        #expect(unit.contains("RestartPreventExitStatus=64 78") && unit.contains("StateDirectory=ballot"))

        // The installed node runs: a one-node cluster from the shipped file, with the data
        // directory and ports moved by flags (flags beat the file).
        let data = NSTemporaryDirectory() + "ballot-deb-\(getpid())"
        let peer = freeLoopbackPort()
        let http = freeLoopbackPort()
        let process = try ChildProcess(
            "/usr/bin/ballotd",
            arguments: ["--config", "/etc/ballot/ballotd.yaml", "--data-dir", data, "--listen", "127.0.0.1:\(peer)",
                        "--http", "127.0.0.1:\(http)", "--election-timeout", "300ms", "--heartbeat-interval", "50ms"],
            output: .null, error: .null)
        defer {
            process.terminate()
            try? FileManager.default.removeItem(atPath: data)
        }
        var leader = false
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline, !leader {
            if let response = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: http, path: "/leader"),
               let view = try? JSONDecoder().decode(LeaderView.self, from: Data(response.body))
            {
                leader = view.isLeader
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(leader, "the installed ballotd should elect itself")
        #expect(process.terminate() == .exited(0), "SIGTERM ends the node cleanly")
    }
}
