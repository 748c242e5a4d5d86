import MatrixCore
import Testing

@Suite struct PushPropertyPathTests {
    @Test func dotsSeparateAndBackslashesEscape() {
        #expect(PropertyPath("content.body").components == ["content", "body"])
        #expect(PropertyPath(#"content.m\.relates_to.rel_type"#).components == ["content", "m.relates_to", "rel_type"])
        #expect(PropertyPath(#"content.m\\foo"#).components == ["content", #"m\foo"#])
        #expect(PropertyPath(#"content.a\xb"#).components == ["content", #"a\xb"#])
        #expect(PropertyPath(#"content.end\"#).components == ["content", #"end\"#])
        #expect(PropertyPath(#"a\\.b"#).components == [#"a\"#, "b"])
    }

    @Test func lookupWalksObjectsOnly() {
        let json: JSON = ["content": ["m.mentions": ["room": true], "list": [1, 2]]]
        #expect(PropertyPath(#"content.m\.mentions.room"#).value(in: json) == .bool(true))
        #expect(PropertyPath("content.m.mentions.room").value(in: json) == nil)
        #expect(PropertyPath("content.list.0").value(in: json) == nil)
        #expect(PropertyPath("content.missing").value(in: json) == nil)
    }
}
