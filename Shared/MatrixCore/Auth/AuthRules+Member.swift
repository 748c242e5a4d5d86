extension AuthRules {
    /// Rule 5 (v1–v5, v12) / 4 (v6–v11): `m.room.member`.
    static func checkMember(_ context: AuthContext) throws(AuthError) {
        let event = context.event
        guard let target = event.stateKey, let value = event.content["membership"]?.stringValue else {
            throw AuthError(.malformedEvent, "m.room.member needs a state_key and content.membership")
        }
        guard let membership = Membership(rawValue: value),
              membership != .knock || context.roomVersion.knockingSupported
        else {
            throw AuthError(.unknownMembership, "unknown membership \(value)")
        }
        switch membership {
        case .join: try checkJoin(context, target: target)
        case .invite: try checkInvite(context, target: target)
        case .leave: try checkLeave(context, target: target)
        case .ban: try checkBan(context, target: target)
        case .knock: try checkKnock(context, target: target)
        }
    }

    static func checkJoin(_ context: AuthContext, target: String) throws(AuthError) {
        let event = context.event
        let authoriser = context.roomVersion.restrictedJoinRuleSupported
            ? event.content["join_authorised_via_users_server"]?.stringValue : nil
        if let authoriser {
            // Only presence here: the signature itself is verified with the other
            // signatures on receipt. Joins only, as deployed servers check it.
            let server = MatrixIDParts.serverName(of: authoriser) ?? ""
            guard event.json["signatures"]?[server]?.objectValue?.isEmpty == false else {
                throw AuthError(.invalidAuthorisingUser, "join is not signed by the authorising server \(server)")
            }
        }
        // The creator's own join right after the create event.
        let prev = event.prevEventIDs
        if prev.count == 1, prev[0] == context.create.eventID,
           target == RoomCreators.originalCreator(of: context.create, roomVersion: context.roomVersion)
        {
            return
        }
        guard event.sender == target else {
            throw AuthError(.senderNotTarget, "\(event.sender) may not join on behalf of \(target)")
        }
        let current = context.membership(of: target)
        if current == .ban {
            throw AuthError(.senderBanned, "\(target) is banned from the room")
        }
        switch context.joinRule {
        case .invite, .knock:
            if current == .invite || current == .join { return }
            throw AuthError(.joinNotAllowed, "the room is invite-only and \(target) is not invited")
        case .restricted, .knockRestricted:
            if current == .invite || current == .join { return }
            guard let authoriser else {
                throw AuthError(.invalidAuthorisingUser, "a restricted join needs join_authorised_via_users_server")
            }
            guard context.membership(of: authoriser) == .join,
                  context.level(of: authoriser).isAtLeast(context.powerLevels.invite)
            else {
                throw AuthError(.invalidAuthorisingUser, "\(authoriser) is not a joined member who may invite")
            }
        case .public:
            return
        case .private, nil:
            throw AuthError(.joinNotAllowed, "the join rule does not allow joining")
        }
    }

    static func checkInvite(_ context: AuthContext, target: String) throws(AuthError) {
        let event = context.event
        if let thirdParty = event.content["third_party_invite"] {
            try checkThirdPartyInvite(context, target: target, thirdParty: thirdParty)
            return
        }
        guard context.membership(of: event.sender) == .join else {
            throw AuthError(.senderNotJoined, "\(event.sender) is not joined to the room")
        }
        switch context.membership(of: target) {
        case .join: throw AuthError(.targetAlreadyJoined, "\(target) is already joined")
        case .ban: throw AuthError(.targetBanned, "\(target) is banned from the room")
        default: break
        }
        guard context.level(of: event.sender).isAtLeast(context.powerLevels.invite) else {
            throw AuthError(.insufficientPowerLevel, "\(event.sender) may not invite")
        }
    }

    static func checkThirdPartyInvite(_ context: AuthContext, target: String, thirdParty: JSON) throws(AuthError) {
        let event = context.event
        if context.membership(of: target) == .ban {
            throw AuthError(.targetBanned, "\(target) is banned from the room")
        }
        guard let signed = thirdParty["signed"], signed.objectValue != nil,
              let mxid = signed["mxid"]?.stringValue, let token = signed["token"]?.stringValue
        else {
            throw AuthError(.invalidThirdPartyInvite, "third_party_invite.signed needs mxid and token")
        }
        guard mxid == target else {
            throw AuthError(.invalidThirdPartyInvite, "signed mxid \(mxid) is not the invited user \(target)")
        }
        guard let invite = context.authEvents[StateKey("m.room.third_party_invite", token)] else {
            throw AuthError(.invalidThirdPartyInvite, "no m.room.third_party_invite for token \(token)")
        }
        guard invite.sender == event.sender else {
            throw AuthError(.invalidThirdPartyInvite, "only \(invite.sender), who made the third-party invite, may complete it")
        }
        guard ThirdPartyInviteSignature.verify(signed: signed, invite: invite) else {
            throw AuthError(.invalidThirdPartyInvite,
                            "no signature in third_party_invite.signed verifies with the invite's public keys")
        }
    }

    static func checkLeave(_ context: AuthContext, target: String) throws(AuthError) {
        let event = context.event
        let targetMembership = context.membership(of: target)
        if event.sender == target {
            switch targetMembership {
            case .join, .invite: return
            case .knock where context.roomVersion.knockingSupported: return
            default: throw AuthError(.leaveNotAllowed, "\(target) is not in the room, invited or knocking")
            }
        }
        guard context.membership(of: event.sender) == .join else {
            throw AuthError(.senderNotJoined, "\(event.sender) is not joined to the room")
        }
        let senderLevel = context.level(of: event.sender)
        if targetMembership == .ban && !senderLevel.isAtLeast(context.powerLevels.ban) {
            throw AuthError(.insufficientPowerLevel, "\(event.sender) may not unban")
        }
        guard senderLevel.isAtLeast(context.powerLevels.kick), context.level(of: target) < senderLevel else {
            throw AuthError(.insufficientPowerLevel, "\(event.sender) may not kick \(target)")
        }
    }

    static func checkBan(_ context: AuthContext, target: String) throws(AuthError) {
        let event = context.event
        guard context.membership(of: event.sender) == .join else {
            throw AuthError(.senderNotJoined, "\(event.sender) is not joined to the room")
        }
        let senderLevel = context.level(of: event.sender)
        guard senderLevel.isAtLeast(context.powerLevels.ban), context.level(of: target) < senderLevel else {
            throw AuthError(.insufficientPowerLevel, "\(event.sender) may not ban \(target)")
        }
    }

    static func checkKnock(_ context: AuthContext, target: String) throws(AuthError) {
        let event = context.event
        guard context.joinRule?.allowsKnocking == true else {
            throw AuthError(.knockNotAllowed, "the join rule does not allow knocking")
        }
        guard event.sender == target else {
            throw AuthError(.senderNotTarget, "\(event.sender) may not knock on behalf of \(target)")
        }
        switch context.membership(of: target) {
        case .ban: throw AuthError(.senderBanned, "\(target) is banned from the room")
        case .invite, .join: throw AuthError(.knockNotAllowed, "\(target) is already invited or joined")
        default: return
        }
    }
}
