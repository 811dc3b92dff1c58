import Foundation
import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// Scope and role checks shared by the API and the clinician pages. Something outside the caller's units is
/// answered as if it did not exist (404), so ids cannot be probed; a role that may not act at all gets 403.
struct Access: Sendable {
    let store: any Store

    func require(_ principal: Principal, _ allowed: (Role) -> Bool, _ what: String) throws {
        if let clinician = principal.clinician, !allowed(clinician.role) {
            throw Problem(status: .forbidden, title: "Forbidden", detail: "the role \(clinician.role.rawValue) may not \(what)")
        }
    }

    func course(_ courseId: String, for principal: Principal) async throws -> CourseRecord {
        guard let course = try await store.course(courseId), principal.covers(unit: course.unit) else {
            throw StoreError.notFound(what: "course", id: courseId)
        }
        return course
    }

    func patient(_ patientId: String, for principal: Principal) async throws {
        guard try await store.patient(patientId) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
        guard let clinician = principal.clinician, !clinician.role.runsRegistry else { return }
        guard !(try await store.patientUnits(patientId)).isDisjoint(with: clinician.units) else {
            throw StoreError.notFound(what: "patient", id: patientId)
        }
    }

    func invitation(_ invitationId: String, for principal: Principal) async throws -> InvitationRecord {
        guard let invitation = try await store.invitation(invitationId),
              let course = try await store.course(invitation.courseId), principal.covers(unit: course.unit) else {
            throw StoreError.notFound(what: "invitation", id: invitationId)
        }
        return invitation
    }
}
