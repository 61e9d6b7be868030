import ArgumentParser
import BallotServer
import Testing
@testable import BallotNodeCommand

/// Every setting the catalogue offers as a flag is declared in NodeOptions and reaches the settings.
@Suite struct NodeOptionsTests {
    /// The command line that gives `key` its example value.
    func arguments(for key: ConfigurationKey) -> [String] {
        let descriptor = key.descriptor
        return descriptor.isBoolean ? [key.flag] : [key.flag, descriptor.example]
    }

    @Test func everyFlagSettingHasAWorkingFlag() throws {
        for key in ConfigurationKey.allCases where key.descriptor.sources.contains(.flag) && key != .algorithm {
            let options = try NodeOptions.parse(arguments(for: key))
            let settings = try options.flagSettings()
            #expect(settings.contains(key), "\(key.flag) is declared but does not reach the settings")
            var expected = NodeSettings()
            try expected.apply(flag: key, value: key.descriptor.isBoolean ? "true" : key.descriptor.example)
            #expect(settings == expected, "\(key.flag)")
        }
    }

    @Test func theAlgorithmFlagBelongsToBallotServeOnly() throws {
        #expect(throws: (any Error).self) { try NodeOptions.parse(["--algorithm", "bully"]) }
        let settings = try NodeOptions.parse([]).flagSettings(algorithm: "bully")
        #expect(settings.algorithm == .bully)
        #expect(!NodeProgram.ballotd.offersAlgorithmChoice && NodeProgram.ballotServe.offersAlgorithmChoice)
    }

    @Test func booleanFlagsHaveANoForm() throws {
        #expect(try NodeOptions.parse(["--no-events"]).flagSettings().events == false)
        #expect(try NodeOptions.parse(["--events"]).flagSettings().events == true)
        #expect(try NodeOptions.parse([]).flagSettings().events == nil)
    }

    @Test func repeatedPeersAreKeptInOrder() throws {
        let settings = try NodeOptions.parse(["--peer", "3=127.0.0.1:7003", "--peer", "2=127.0.0.1:7002"]).flagSettings()
        #expect(settings.peers?.map(\.id) == [3, 2])
    }

    @Test func flagErrorsNameTheFlag() throws {
        let options = try NodeOptions.parse(["--election-timeout", "1x"])
        #expect(throws: ConfigurationError.invalidSetting(.flag(.electionTimeout), .invalidDuration("1x", .unknownUnit("x")))) {
            try options.flagSettings()
        }
    }

    @Test func helpNamesEachVariableAndDefault() {
        let help = NodeOptions.helpMessage(columns: 1000)
        for key in ConfigurationKey.allCases where key != .algorithm {
            #expect(help.contains(key.flag), "\(key.flag)")
            #expect(help.contains(key.environmentVariable), "\(key.environmentVariable)")
        }
        #expect(help.contains("(env: BALLOT_ELECTION_TIMEOUT; default: 1s)"))
        #expect(help.contains("--print-config"))
    }

    @Test func exitStatusesAreDistinct() {
        #expect(ExitStatus.configuration.rawValue == 78)
        #expect(ExitStatus.usage.rawValue == 64)
        #expect(ExitStatus.failure.rawValue == 1)
        // The argument parser's own usage errors use the same status as ExitStatus.usage.
        #expect(ExitCode.validationFailure.rawValue == ExitStatus.usage.rawValue)
    }
}
