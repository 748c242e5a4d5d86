import Crypto
import Foundation
import MatrixCore
import Testing

@Suite struct AuthThirdPartyInviteTests {
    let identityKey = Curve25519.Signing.PrivateKey()

    func unpadded(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().trimmingCharacters(in: CharacterSet(charactersIn: "="))
    }

    /// A room where Bob has published a third-party invite with token `tok`.
    func roomWithPendingInvite(publicKeysOnly: Bool = false) throws -> TestRoom {
        var room = TestRoom.standard(.v11, joinRule: "invite")
        let key = JSON.string(unpadded(identityKey.publicKey.rawRepresentation))
        let content: JSON = publicKeysOnly
            ? ["display_name": "d...@example.com", "public_keys": [["public_key": key]]]
            : ["display_name": "d...@example.com", "public_key": key]
        try room.send("3pid", type: "m.room.third_party_invite", stateKey: "tok", sender: bob, content: content)
        return room
    }

    func signed(mxid: String = dave, token: String = "tok", by key: Curve25519.Signing.PrivateKey? = nil) throws -> JSON {
        let payload: JSON = ["mxid": .string(mxid), "token": .string(token), "sender": .string(bob)]
        let signature = try (key ?? identityKey).signature(for: Data(payload.canonicalBytes))
        var block = payload
        block["signatures"] = ["id.example.com": ["ed25519:0": .string(unpadded(signature))]]
        return block
    }

    func invite(_ room: TestRoom, signed: JSON, by sender: String = bob) -> AuthError.Reason? {
        denial {
            try room.checkMember(dave, "invite", by: sender,
                                 content: ["third_party_invite": ["display_name": "d...@example.com", "signed": signed]])
        }
    }

    @Test func validSignatureCompletesTheInvite() throws {
        #expect(invite(try roomWithPendingInvite(), signed: try signed()) == nil)
        #expect(invite(try roomWithPendingInvite(publicKeysOnly: true), signed: try signed()) == nil)
    }

    @Test func signatureFromAnotherKeyIsRejected() throws {
        let forged = try signed(by: Curve25519.Signing.PrivateKey())
        #expect(invite(try roomWithPendingInvite(), signed: forged) == .invalidThirdPartyInvite)
    }

    @Test func tamperedSignedBlockIsRejected() throws {
        var block = try signed()
        block["token"] = "tok"
        block["mxid"] = .string(dave)
        block["extra"] = "tampered"
        #expect(invite(try roomWithPendingInvite(), signed: block) == .invalidThirdPartyInvite)
    }

    @Test func mxidTokenAndSenderMustMatch() throws {
        let room = try roomWithPendingInvite()
        #expect(invite(room, signed: try signed(mxid: carol)) == .invalidThirdPartyInvite)
        #expect(invite(room, signed: try signed(token: "other")) == .invalidThirdPartyInvite)
        #expect(invite(room, signed: try signed(), by: carol) == .invalidThirdPartyInvite)
        #expect(invite(room, signed: ["mxid": .string(dave)]) == .invalidThirdPartyInvite)
    }

    @Test func bannedUsersCannotBeInvitedByThirdParty() throws {
        var room = try roomWithPendingInvite()
        try room.member(dave, "ban", by: alice)
        #expect(invite(room, signed: try signed()) == .targetBanned)
    }
}
