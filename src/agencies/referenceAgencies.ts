/**
 * The reference data-owning agencies this repository ships subgraphs for. Organisation numbers
 * are the agencies' public ones (legal persons, not personal data).
 */
export interface ReferenceAgency {
  readonly id: 'skatteverket' | 'forsakringskassan' | 'csn' | 'arbetsformedlingen';
  readonly name: string;
  readonly organisationNumber: string;
  /** Default port of its subgraph in development. */
  readonly defaultPort: number;
}

export const REFERENCE_AGENCIES: readonly ReferenceAgency[] = [
  { id: 'skatteverket', name: 'Skatteverket', organisationNumber: '202100-5448', defaultPort: 4101 },
  { id: 'forsakringskassan', name: 'Försäkringskassan', organisationNumber: '202100-5521', defaultPort: 4102 },
  { id: 'csn', name: 'Centrala studiestödsnämnden', organisationNumber: '202100-1421', defaultPort: 4103 },
  { id: 'arbetsformedlingen', name: 'Arbetsförmedlingen', organisationNumber: '202100-2114', defaultPort: 4104 },
];

export type ReferenceAgencyId = ReferenceAgency['id'];
