import Foundation
import PostgresNIO

/// The clinicians' lists that look up a detail per row in the outbox. Each such look-up goes through the
/// patient's outbox rows (`outbox_patient`): by invitation alone it would read the whole outbox once per listed
/// invitation. Kept here so `WorkerQueryPlanTests` can show their plans use indexes, as for the workers' queries.
enum ClinicianListQuery {
    /// Invitations in `units` (nil: every unit), with their latest delivery problem, follow-up contact and voided
    /// link; `states` (nil: any) or, with `orVoidedLinks`, a voided link; one invitation when `invitationId` is set.
    static func invitations(units: [String]?, states: [String]?, orVoidedLinks: Bool, invitationId: String?) -> PostgresQuery {
        """
        SELECT i.id, i.course_id, i.patient_id, c.unit, i.milestone, i.state, i.opens_at, i.closes_at, i.reminders_sent,
            (SELECT CASE o.failures WHEN '' THEN o.last_error ELSE o.failures END FROM outbox o
             WHERE o.patient_id = i.patient_id AND o.invitation_id = i.id AND o.kind IN ('invitation', 'reminder')
                AND o.state <> 'cancelled' AND (o.last_error IS NOT NULL OR o.failures != '')
             ORDER BY o.updated_at DESC LIMIT 1) AS problems,
            f.at AS contacted_at, f.by AS contacted_by, f.note AS contact_note, f.contacted_on, lf.voided_at
        FROM invitations i JOIN courses c ON c.id = i.course_id LEFT JOIN follow_up_contacts f ON f.invitation_id = i.id
            LEFT JOIN link_factor lf ON lf.invitation_id = i.id
        WHERE (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
          AND (\(states)::text[] IS NULL OR i.state = ANY(\(states)::text[]) OR (\(orVoidedLinks) AND lf.voided_at IS NOT NULL))
          AND (\(invitationId)::text IS NULL OR i.id = \(invitationId))
        ORDER BY i.opens_at DESC, i.id LIMIT 2000
        """
    }

    /// Invitations no channel reached, in `units` (nil: every unit), with the reasons of their last failed message.
    static func unreachable(units: [String]?) -> PostgresQuery {
        """
        SELECT i.id, i.course_id, i.patient_id, i.milestone, c.unit, i.updated_at,
            (SELECT o.failures FROM outbox o WHERE o.patient_id = i.patient_id AND o.invitation_id = i.id AND o.state = 'failed'
                ORDER BY o.updated_at DESC LIMIT 1) AS failures
        FROM invitations i JOIN courses c ON c.id = i.course_id
        WHERE i.state = 'unreachable' AND (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
        ORDER BY i.updated_at, i.id
        """
    }
}
