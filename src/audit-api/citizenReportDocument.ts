/**
 * The audit API query that fetches a citizen report exactly as the log signed it: every field of
 * the report, nothing more (no `__typename`, no organisation numbers). The signature covers the
 * report's canonical JSON (reportProofs.ts), so an answer to this document verifies offline with
 * `npm run audit -- verify-report` like the JSON download; a smaller selection does not, as it
 * should not: it is not the whole report.
 */
export const CITIZEN_REPORT_DOCUMENT = `query CitizenReport($personnummer: String!, $since: [CheckpointSizeInput!]) {
  citizenReport(personnummer: $personnummer, since: $since) {
    subject
    generatedAt
    scope { agency { id name } }
    reads { time agency { id name } owningAgency { id name } field category purpose legalBasis entry { chainId seq } }
    summary { agency { id name } category purpose legalBasis reads firstRead lastRead }
    heldBack { rule { id purpose clientAgency casePattern holdUntil reason } entries }
    proofs {
      format
      checkpoints { chainId note }
      entries { chainId leaf entry inclusion }
      consistency { chainId oldSize newSize proof }
      purges { chainId note }
    }
    signature
  }
}`;
