import MatrixCore
import Testing

@Suite struct PushGlobTests {
    @Test func wholeValueMatchesFollowTheSpecExamples() {
        let glob = GlobPattern("lunc?*")
        #expect(glob.matches("Lunch plans"))
        #expect(glob.matches("LUNCH"))
        #expect(!glob.matches(" lunch"))
        #expect(!glob.matches("lunc"))
    }

    @Test func starMatchesAnyRunAndQuestionMarkExactlyOneCharacter() {
        #expect(GlobPattern("*").matches(""))
        #expect(GlobPattern("a*b*c").matches("aXXbYYc"))
        #expect(GlobPattern("a**c").matches("ac"))
        #expect(!GlobPattern("a*b*c").matches("aXXbYY"))
        #expect(GlobPattern("m.room.?ember").matches("m.room.member"))
        #expect(!GlobPattern("m.room.?ember").matches("m.room.ember"))
        #expect(!GlobPattern("m.notice").matches("m.notices"))
        #expect(GlobPattern("").matches(""))
        #expect(!GlobPattern("").matches("x"))
    }

    @Test func plainPatternsCompareTheWholeValueIgnoringCase() {
        #expect(GlobPattern("m.room.message").matches("m.room.message"))
        #expect(GlobPattern("m.room.message").matches("M.Room.MESSAGE"))
        #expect(GlobPattern("M.NOTICE").matches("m.notice"))
        #expect(!GlobPattern("m.room.message").matches("m.room.messages"))
        #expect(!GlobPattern("m.room.message").matches("m.room.messag"))
        #expect(!GlobPattern("m.room.message").matches("m.room.massage"))
        #expect(!GlobPattern("@a:x").matches("@a:y"))
        // Lowercased as Unicode, the Kelvin sign is an ASCII "k", and "É" is "é".
        #expect(GlobPattern("kelvin").matches("\u{212A}elvin"))
        #expect(GlobPattern("café").matches("CAFÉ"))
        #expect(!GlobPattern("cafe").matches("café"))
        #expect(GlobPattern(literal: "Al*ce").matches("al*CE"))
        #expect(!GlobPattern(literal: "Al*ce").matches("alice"))
    }

    @Test func wordMatchesFollowTheSpecExamples() {
        let glob = GlobPattern("ex*ple")
        #expect(glob.matchesWords("An example event."))
        #expect(glob.matchesWords("exple"))
        #expect(glob.matchesWords("An exciting triple-whammy"))
    }

    @Test func wordMatchesNeedABoundaryOnBothSides() {
        let glob = GlobPattern("cake")
        #expect(glob.matchesWords("I like CAKE!"))
        #expect(glob.matchesWords("cake"))
        #expect(glob.matchesWords("(cake)"))
        #expect(!glob.matchesWords("cakes are nice"))
        #expect(!glob.matchesWords("pancake"))
        #expect(!glob.matchesWords("cake_shop"))
        #expect(!glob.matchesWords("cake9"))
        // Letters outside [A-Za-z] count as boundaries in the spec's definition.
        #expect(glob.matchesWords("écakeé"))
    }

    @Test func literalPatternsTreatWildcardsAsText() {
        #expect(GlobPattern(literal: "B*b").matchesWords("hi b*b!"))
        #expect(!GlobPattern(literal: "B*b").matchesWords("hi bob!"))
    }

    @Test func longBodiesMatchWithoutBlowingUp() {
        let body = String(repeating: "a ", count: 20_000) + "needle"
        #expect(GlobPattern("n*e").matchesWords(body))
        #expect(!GlobPattern("a*z").matchesWords(body))
    }
}
