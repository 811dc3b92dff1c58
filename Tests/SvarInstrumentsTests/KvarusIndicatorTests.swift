import SvarInstruments
import Testing

@Suite struct KvarusIndicatorTests {
    func flags(_ json: String) throws -> Score {
        try instrument("kvarus-followup").score(try answers("kvarus-followup", json))
    }

    @Test func greatBenefitIsFourOrFive() throws {
        #expect(try flags(#"{"benefit":4}"#).value("greatBenefit")?.flag == true)
        #expect(try flags(#"{"benefit":5}"#).value("greatBenefit")?.flag == true)
        #expect(try flags(#"{"benefit":3}"#).value("greatBenefit")?.flag == false)
        #expect(try flags("{}").value("greatBenefit")?.isMissing == true)
    }

    @Test func abstinenceNeedsBothCountsAnsweredAndZero() throws {
        #expect(try flags(#"{"alcoholDays":0,"drugDays":0}"#).value("abstinentLast30Days")?.flag == true)
        #expect(try flags(#"{"alcoholDays":3,"drugDays":0}"#).value("abstinentLast30Days")?.flag == false)
        #expect(try flags(#"{"alcoholDays":0}"#).value("abstinentLast30Days")?.isMissing == true)
    }

    @Test func followUpIsTrueOnAnyYesAndFalseOnlyWhenAllAreNo() throws {
        let allNo = #"{"helpSpecialist":2,"helpGP":2,"helpMunicipal":2,"helpNav":2,"helpLar":2,"helpPeer":2}"#
        #expect(try flags(allNo).value("receivedFollowUp")?.flag == false)
        #expect(try flags(#"{"helpGP":1}"#).value("receivedFollowUp")?.flag == true)
        #expect(try flags(#"{"helpGP":2}"#).value("receivedFollowUp")?.isMissing == true)
    }

    @Test func rawValuesArePassedThroughAndRangesChecked() throws {
        let score = try flags(#"{"qualityOfLife":7,"housing":6,"activity":3}"#)
        #expect(score.value("qualityOfLife")?.number == 7)
        #expect(score.value("stableHousing")?.flag == false)
        #expect(score.value("inWorkOrEducation")?.flag == true)
        let error = #expect(throws: AnswerError.self) { try answers("kvarus-followup", #"{"drugDays":31}"#) }
        #expect(error?.field == "drugDays")
    }

    @Test func injectingIsAskedOnlyWhenDrugDaysAboveZero() throws {
        let q = try instrument("kvarus-followup")
        let injecting = try #require(q.questionnaire.item(linkId: "injecting"))
        #expect(q.isEnabled(injecting, try answers("kvarus-followup", #"{"drugDays":0}"#)) == false)
        #expect(q.isEnabled(injecting, try answers("kvarus-followup", #"{"drugDays":4}"#)) == true)
    }
}
