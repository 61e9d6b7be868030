import BallotChildRun
import BallotServer
import Glibc
import Testing

/// The record line of `ballot-writer`, its recording loop, and its hand-parsed flags.
/// A test helper that could not read what the writer wrote.
struct TestFailure: Error { var message: String; init(_ message: String) { self.message = message } }

@Suite struct ChildRunRecordTests {
    @Test func recordsRoundTripAndGarbageIsRefused() {
        let record = ChildRun(node: 3, term: 12, pid: 4242, parent: 1, first: 1_000_000_000_001, last: 1_000_000_000_002)
        #expect(ChildRun(line: record.line) == record)
        #expect(record.line.utf8.count == ChildRun(node: 1, term: 1, pid: 1, parent: 1, first: 1, last: 1).line.utf8.count)
        #expect(ChildRun(line: String(record.line.dropLast())) == record, "without its line end")
        #expect(ChildRun(line: "child node=1 term=2") == nil)
        #expect(ChildRun(line: "child node=1 term=2 pid=3 ppid=4 first_ns=9 last_ns=8") == nil)
        #expect(ChildRun(line: "child node=1 term=2 pid=3 ppid=4 first_ns=x last_ns=8") == nil)
        #expect(ChildRun(line: "") == nil)
    }

    @Test func theDescriptionGivesTheRunTimeInMilliseconds() {
        let run = ChildRun(node: 2, term: 7, pid: 99, parent: 1, first: 5_000_000, last: 17_349_999)
        #expect(run.description == "child pid 99 of node 2 term 7 ran 5000000…17349999 (12.3 ms)")
        #expect(ChildRun(node: 2, term: 7, pid: 99, parent: 1, first: 0, last: 50_000).description.hasSuffix("(0.1 ms)"))
        #expect(ChildRun(node: 2, term: 7, pid: 99, parent: 1, first: 0, last: 0).description.hasSuffix("(0.0 ms)"))
    }

    @Test func theRecorderLeavesOneRecordOfItsRun() throws {
        var template = Array("/tmp/ballot-writer-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        let directory = String(cString: made)
        defer {
            for name in (try? names(in: directory)) ?? [] { unlink("\(directory)/\(name)") }
            rmdir(directory)
        }
        try ChildRunRecorder.run(directory: directory, node: 4, term: 9, ignoreTerminate: false, limit: .milliseconds(20))
        let records = try names(in: directory)
        #expect(records.count == 1 && records[0].hasPrefix("child-\(getpid())-") && records[0].hasSuffix(".rec"), "\(records)")
        let text = try contents(of: "\(directory)/\(records[0])")
        let run = try #require(ChildRun(line: text))
        #expect(run.node == 4 && run.term == 9 && run.pid == getpid() && run.parent == getppid())
        #expect(run.last - run.first >= 20_000_000 && run.last - run.first < 2_000_000_000)

        #expect(throws: ChildRunRecorder.Failure.self) {
            try ChildRunRecorder.run(directory: "\(directory)/missing", node: 4, term: 9, ignoreTerminate: false,
                                     limit: .milliseconds(1))
        }
    }

    func names(in directory: String) throws -> [String] {
        guard let stream = opendir(directory) else { throw TestFailure("opendir \(directory)") }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    func contents(of path: String) throws -> String {
        guard let file = fopen(path, "r") else { throw TestFailure("fopen \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite struct WriterArgumentsTests {
    let environment = ["BALLOT_NODE_ID": "3", "BALLOT_TERM": "17", "ETCD_LOCK_REV": "123456"]

    func parse(_ arguments: [String], environment: [String: String]? = nil) throws(WriterArguments.Problem) -> WriterArguments {
        let environment = environment ?? self.environment
        return try WriterArguments(parsing: arguments) { environment[$0] }
    }

    func problem(_ arguments: [String], environment: [String: String]? = nil) -> WriterArguments.Problem? {
        do {
            _ = try parse(arguments, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func theSidecarSuitesCommandLineTakesNodeAndTermFromBallotRun() throws {
        let parsed = try parse(["--record", "/tmp/r", "--ignore-sigterm"])
        #expect(parsed == WriterArguments(record: "/tmp/r", node: 3, term: 17, ignoreTerminate: true, limit: .seconds(3600)))
    }

    @Test func theLockBenchsCommandLineNamesItsNodeAndTermVariable() throws {
        let parsed = try parse(["--record", "/tmp/r", "--node", "2", "--term-variable", "ETCD_LOCK_REV", "--ignore-sigterm"],
                               environment: ["ETCD_LOCK_REV": "123456"])
        #expect(parsed == WriterArguments(record: "/tmp/r", node: 2, term: 123_456, ignoreTerminate: true))
    }

    @Test func valuesMayFollowAnEqualsSignAndFlagsComeInAnyOrder() throws {
        let parsed = try parse(["--for=250ms", "--node=5", "--record=/tmp/a=b"])
        #expect(parsed == WriterArguments(record: "/tmp/a=b", node: 5, term: 17, ignoreTerminate: false,
                                          limit: .milliseconds(250)))
    }

    @Test func badCommandLinesAreRefusedPrecisely() {
        #expect(problem([]) == .missingRecord)
        #expect(problem(["--record"]) == .missingValue(flag: "--record"))
        #expect(problem(["--record", "--ignore-sigterm"]) == .missingValue(flag: "--record"))
        #expect(problem(["--record", "/r", "--record", "/s"]) == .repeated(flag: "--record"))
        #expect(problem(["--record", "/r", "--ignore-sigterm=yes"]) == .unexpectedValue(flag: "--ignore-sigterm"))
        #expect(problem(["--record", "/r", "--verbose"]) == .unknownFlag("--verbose"))
        #expect(problem(["--record", "/r", "extra"]) == .unknownFlag("extra"))
        #expect(problem(["--record", "/r", "--node", "-1"]) == .invalidNode("-1"))
        #expect(problem(["--record", "/r", "--node", "two"]) == .invalidNode("two"))
        #expect(problem(["--record", "/r"], environment: ["BALLOT_TERM": "1"]) == .noNode)
        #expect(problem(["--record", "/r"], environment: ["BALLOT_NODE_ID": "x", "BALLOT_TERM": "1"]) == .invalidNodeVariable("x"))
        #expect(problem(["--record", "/r"], environment: ["BALLOT_NODE_ID": "1"]) == .invalidTerm(variable: "BALLOT_TERM", value: nil))
        #expect(problem(["--record", "/r", "--term-variable", "T"]) == .invalidTerm(variable: "T", value: nil))
        #expect(problem(["--record", "/r"], environment: ["BALLOT_NODE_ID": "1", "BALLOT_TERM": "12a"])
                == .invalidTerm(variable: "BALLOT_TERM", value: "12a"))
        #expect(problem(["--record", "/r", "--for", "5"]) == .invalidDuration("5"))
        #expect(WriterArguments.Problem.invalidDuration("5").description
                == "--for '5' is not a duration: a whole number and ms, s or m, above zero (1ms, 250ms, 2s, 60m)")
        #expect(WriterArguments.Problem.noNode.description == "no node: give --node or run under ballot run (BALLOT_NODE_ID)")
    }

    @Test func helpIsAskedForWithDashDashHelpOrDashH() {
        #expect(WriterArguments.asksForHelp(["--record", "/r", "--help"]))
        #expect(WriterArguments.asksForHelp(["-h"]))
        #expect(!WriterArguments.asksForHelp(["--record", "/r"]))
    }

    @Test func durationsAreTheWholeNumberPartOfTheNodesNotation() throws {
        #expect(WriterArguments.duration("1ms") == .milliseconds(1))
        #expect(WriterArguments.duration("250ms") == .milliseconds(250))
        #expect(WriterArguments.duration("2s") == .seconds(2))
        #expect(WriterArguments.duration("60m") == .seconds(3600))
        for refused in ["", "ms", "0ms", "0s", "5", "1.5s", "-1s", " 1s", "1 s", "1us", "1h", "1S", "99999999999999999999ms",
                        "9223372037s"] {
            #expect(WriterArguments.duration(refused) == nil, "\(refused)")
        }
        // Whatever the writer accepts means the same to the node's parser (`ballot serve`, `ballot faults`).
        for text in ["1ms", "250ms", "1000ms", "2s", "59s", "1m", "60m", "9223372036s", "153722867m"] {
            let writer = try #require(WriterArguments.duration(text), "\(text)")
            #expect(try DurationParser.parse(text) == writer, "\(text)")
        }
    }
}
