import Testing
@testable import BallotServer

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("1s", .seconds(1)),
        ("1.5s", .milliseconds(1500)),
        ("1.50s", .milliseconds(1500)),
        ("2m", .seconds(120)),
        ("1.25m", .seconds(75)),
        ("0.5ms", .microseconds(500)),
        ("10ms", .milliseconds(10)),
        ("0.000000001s", .nanoseconds(1)),
        ("0.000001ms", .nanoseconds(1)),
        ("9223372036s", .seconds(9_223_372_036)),
        ("0100ms", .milliseconds(100)),
    ])
    func parsesValidDurations(text: String, expected: Duration) throws {
        #expect(try DurationParser.parse(text) == expected)
    }

    @Test(arguments: [
        ("", DurationProblem.empty),
        ("1x", .unknownUnit("x")),
        ("1h", .unknownUnit("h")),
        ("1us", .unknownUnit("us")),
        ("1MS", .unknownUnit("MS")),
        ("1µs", .unknownUnit("µs")),
        ("100", .missingUnit),
        ("1.5", .missingUnit),
        ("ms", .missingNumber),
        ("-1s", .negative),
        ("-0s", .negative),
        ("0s", .zero),
        ("0.0ms", .zero),
        ("1 s", .containsWhitespace),
        (" 1s", .containsWhitespace),
        ("1s\n", .containsWhitespace),
        ("1.s", .malformedNumber),
        (".5s", .malformedNumber),
        ("1.2.3s", .malformedNumber),
        ("+1s", .malformedNumber),
        ("0.0000000001s", .tooPrecise),
        ("1.0000001ms", .tooPrecise),
        ("0.000000000001m", .tooPrecise),
        ("9223372037s", .tooLarge),
        ("99999999999999999999m", .tooLarge),
        ("153722867281m", .tooLarge),
    ])
    func rejectsInvalidDurations(text: String, problem: DurationProblem) {
        #expect(throws: ConfigurationError.invalidDuration(text, problem)) {
            try DurationParser.parse(text)
        }
    }

    @Test func unknownUnitMessageNamesTheUnitAndTheChoices() {
        #expect(ConfigurationError.invalidDuration("1x", .unknownUnit("x")).description
            == "\"1x\": unknown unit 'x'; use ms, s or m")
    }

    @Test(arguments: [
        (Duration.milliseconds(100), "100ms"),
        (.milliseconds(1500), "1.5s"),
        (.seconds(120), "2m"),
        (.seconds(90), "90s"),
        (.microseconds(500), "0.5ms"),
        (.nanoseconds(1), "0.000001ms"),
        (.nanoseconds(1_000_000_001), "1.000000001s"),
        (.milliseconds(333), "333ms"),
    ])
    func formatsInTheParsersNotation(duration: Duration, text: String) throws {
        #expect(DurationParser.format(duration) == text)
        #expect(try DurationParser.parse(text) == duration)
    }
}
