import Testing
@testable import MatrixCore

/// Server name grammar (spec appendix "Server Name").
@Suite struct ServerNameTests {
    @Test func specExamples() throws {
        let dns = try ServerName.parse("matrix.org")
        #expect(dns.kind == .dnsName && dns.host == "matrix.org" && dns.port == nil)

        let dnsPort = try ServerName.parse("matrix.org:8888")
        #expect(dnsPort.host == "matrix.org" && dnsPort.port == 8888 && dnsPort.rawValue == "matrix.org:8888")

        let v4 = try ServerName.parse("1.2.3.4")
        #expect(v4.kind == .ipv4 && v4.host == "1.2.3.4" && v4.port == nil)

        let v4Port = try ServerName.parse("1.2.3.4:1234")
        #expect(v4Port.kind == .ipv4 && v4Port.port == 1234)

        let v6 = try ServerName.parse("[1234:5678::abcd]")
        #expect(v6.kind == .ipv6 && v6.host == "1234:5678::abcd" && v6.port == nil)
        #expect(v6.hostLiteral == "[1234:5678::abcd]")

        let v6Port = try ServerName.parse("[1234:5678::abcd]:5678")
        #expect(v6Port.kind == .ipv6 && v6Port.host == "1234:5678::abcd" && v6Port.port == 5678)
    }

    @Test(arguments: [
        "localhost", "a", "my-server.example.com", "UPPER.example", "123", "[::1]", "[::]", "[::1]:8448",
        "[2001:db8:0:0:0:0:2:1]", "[2001:DB8::8:800:200C:417A]", "[::ffff:192.168.0.1]",
        "[1:2:3:4:5:6:1.2.3.4]", "example.org:1", "example.org:65535", "0.0.0.0", "255.255.255.255",
    ])
    func valid(_ name: String) {
        #expect(ServerName(name)?.rawValue == name)
    }

    @Test(arguments: [
        "", ":8448", "example.org:", "example.org:0", "example.org:65536", "example.org:123456",
        "example.org:80a", "example.org:-1", "exa_mple.org", "ex ample.org", "exämple.org",
        "256.1.1.1", "1.2.3.999", "[1234:5678::abcd", "[1234:5678::abcd]x", "[]", "[::1::2]",
        "[1:2:3:4:5:6:7:8:9]", "[1:2:3:4:5:6:7]", "[12345::1]", "[g::1]", "[1:2:3:4:5:6:7::8]",
        "[1.2.3.4]", "[::1.2.3.4:1]", "1234:5678::abcd", String(repeating: "a", count: 256),
    ])
    func invalid(_ name: String) {
        #expect(ServerName(name) == nil)
    }

    @Test func portErrorsAreReportedAsPortErrors() {
        #expect(throws: IdentifierError.invalidPort("0")) { try ServerName.parse("example.org:0") }
        #expect(throws: IdentifierError.invalidServerName("exa_mple.org")) { try ServerName.parse("exa_mple.org") }
    }

    @Test func comparisonIsCaseSensitive() {
        #expect(ServerName("matrix.org") != ServerName("MATRIX.ORG"))
    }
}
