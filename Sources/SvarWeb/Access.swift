import Foundation
import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// Who is calling: the EHR integration with the installation's own token (every unit), or a person — from an
/// OIDC access token on the API, or a session on the clinician pages — limited to their units and role.
public enum Principal: Sendable, Equatable {
    case system
    case clinician(Clinician)

    public var clinician: Clinician? {
        if case .clinician(let c) = self { return c }
        return nil
    }

    public var name: String { clinician.map { $0.username } ?? "api" }
}

/// The one place that decides what a caller may see and do, for the API and the clinician pages alike.
///
/// Every store read that returns patient data takes a `Scope`, and in the web layer only this type makes one
/// (a test checks the sources), so a route cannot forget the caller's units. Something outside the caller's
/// units is answered as if it did not exist (404), so ids cannot be probed; a role that may not act at all
/// gets 403 before anything is looked up.
struct Access: Sendable {
    let store: any Store

    /// The units whose data this caller may read: the installation token and registry-wide roles every unit.
    func scope(_ principal: Principal) -> Scope { principal.clinician?.scope ?? .everyUnit }

    func covers(_ principal: Principal, unit: String) -> Bool { scope(principal).covers(unit: unit) }

    /// May this caller see other patients' data under an existing record (the installation token may)?
    func isUnitScoped(_ principal: Principal) -> Bool { scope(principal).units != nil }

    /// The units that keep the identity a caller registers as it was typed: a unit-scoped caller's own units;
    /// none for registry-wide callers, whose registration is the vault's record.
    func registeringUnits(_ principal: Principal) -> Set<String> { scope(principal).units ?? [] }

    func require(_ principal: Principal, _ allowed: (Role) -> Bool, _ what: String) throws {
        if let clinician = principal.clinician, !allowed(clinician.role) {
            throw Problem(status: .forbidden, title: "Forbidden", detail: "the role \(clinician.role.rawValue) may not \(what)")
        }
    }

    func course(_ courseId: String, for principal: Principal) async throws -> CourseRecord {
        guard let course = try await store.course(courseId), covers(principal, unit: course.unit) else {
            throw StoreError.notFound(what: "course", id: courseId)
        }
        return course
    }

    /// Checks that the patient exists and has a course in the caller's scope.
    func patient(_ patientId: String, for principal: Principal) async throws {
        guard try await store.patient(patientId) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
        guard let units = scope(principal).units else { return }
        guard !(try await store.patientUnits(patientId)).isDisjoint(with: units) else {
            throw StoreError.notFound(what: "patient", id: patientId)
        }
    }

    func invitation(_ invitationId: String, for principal: Principal) async throws -> InvitationRecord {
        guard let invitation = try await store.invitation(invitationId),
            let course = try await store.course(invitation.courseId), covers(principal, unit: course.unit)
        else {
            throw StoreError.notFound(what: "invitation", id: invitationId)
        }
        return invitation
    }

    // MARK: Reads of patient data, always within the caller's scope

    func courses(of patientId: String, for principal: Principal) async throws -> [CourseRecord] {
        try await store.courses(patientId: patientId, in: scope(principal))
    }

    func results(of patientId: String, for principal: Principal) async throws -> [ResultRecord] {
        try await store.results(patientId: patientId, in: scope(principal))
    }

    /// The sealed identity, audited as read by this person; nil outside their scope.
    func identity(of patientId: String, for principal: Principal, purpose: String, at: Date) async throws -> SealedIdentity? {
        try await store.readIdentity(of: patientId, in: scope(principal), actor: principal.name, purpose: purpose, at: at)
    }

    func courseSummaries(for principal: Principal) async throws -> [CourseSummary] {
        try await store.courseSummaries(in: scope(principal))
    }

    func invitationSummaries(for principal: Principal, states: [String]? = nil, orVoidedLinks: Bool = false) async throws
        -> [InvitationSummary]
    {
        try await store.invitationSummaries(in: scope(principal), states: states, orVoidedLinks: orVoidedLinks)
    }

    func nudges(for principal: Principal) async throws -> [ClinicianNudge] {
        try await store.nudges(in: scope(principal))
    }

    /// Unreachable invitations in scope, narrowed to the units asked for (never widened).
    func unreachable(for principal: Principal, askedUnits: Set<String>) async throws -> [UnreachableInvitation] {
        let allowed = scope(principal)
        return try await store.unreachableInvitations(in: askedUnits.isEmpty ? allowed : allowed.narrowed(to: askedUnits))
    }

    func units(for principal: Principal) async throws -> [SvarStore.Unit] {
        try await store.units().filter { covers(principal, unit: $0.resh) }
    }

    /// The response overview's raw groups, for the caller's units.
    func responseFacts(for principal: Principal, now: Date) async throws -> [ResponseFacts] {
        try await store.responseFacts(in: scope(principal), now: now)
    }

    /// The patient with this number, only when they have a course in the caller's units: a unit must not learn that
    /// a person is a patient elsewhere.
    func knownPatient(lookupHash: [UInt8], for principal: Principal) async throws -> String? {
        try await store.knownPatient(lookupHash: lookupHash, in: scope(principal))
    }

    /// An invitation on the follow-up worklist (not reached, expired, declined, or its link voided) in scope.
    func followUpItem(_ invitationId: String, for principal: Principal) async throws -> InvitationSummary {
        let items = try await store.invitationSummaries(
            in: scope(principal), states: ClinicianController.followUpStates, orVoidedLinks: true, invitationId: invitationId)
        guard let item = items.first else {
            throw StoreError.notFound(what: "follow-up item", id: invitationId)
        }
        return item
    }

    /// Records that the clinician reached the patient another way (audited); only for an item on their worklist.
    func markContacted(_ invitationId: String, for principal: Principal, on day: LocalDate, note: String, at: Date) async throws {
        _ = try await followUpItem(invitationId, for: principal)
        try await store.markContacted(invitationId: invitationId, by: principal.name, on: day, note: note, at: at)
    }

    /// Safety flags in scope: one patient's (all) or, for the start page, everyone's not yet seen.
    func safetyFlags(for principal: Principal, patientId: String? = nil, unseenOnly: Bool) async throws -> [SafetyFlagRecord] {
        try await store.safetyFlags(in: scope(principal), patientId: patientId, unseenOnly: unseenOnly)
    }

    /// Marks a flag in scope seen by this person (audited); one outside the scope is answered as not found.
    func markSafetyFlagSeen(_ responseId: String, for principal: Principal, at: Date) async throws {
        guard try await store.markSafetyFlagSeen(responseId: responseId, in: scope(principal), actor: principal.name, at: at) else {
            throw StoreError.notFound(what: "answer", id: responseId)
        }
    }

    /// Records the patient's reservation (it applies everywhere); the count returned is of the caller's units.
    func reserve(_ patientId: String, for principal: Principal, at: Date) async throws -> Int {
        try await store.reserve(patientId: patientId, countingIn: scope(principal), actor: principal.name, at: at)
    }

    /// The patient's own reservation, asked for on their landing page: the same store call as the API's (the
    /// same cancelling, tombstone and audit entry), for the one patient whose link was just opened. The opened
    /// link (signature, nonce on record, invitation still open: `PatientAnswering.open`) is the authority, and
    /// it names exactly one patient, so nothing else can be reached through it.
    func reserve(linkedPatient session: PatientAnswering.Session, at: Date) async throws -> Int {
        try await store.reserve(patientId: session.invitation.patientId, countingIn: .everyUnit, actor: "patient", at: at)
    }

    /// The patient declines the one invitation behind the opened link (audited; its reminders stop).
    func decline(linkedInvitation session: PatientAnswering.Session, at: Date) async throws {
        try await store.decline(invitationId: session.invitation.id, actor: "patient", at: at)
    }
}
