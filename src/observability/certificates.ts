import { X509Certificate } from 'node:crypto';

export interface CertificateStatus {
  /** Which certificate: `gateway-server`, `gateway-subgraph-client`, `federation-ca-1`, ... */
  readonly name: string;
  readonly notAfter: Date;
  /** Whole days left, rounded down; negative once expired. */
  readonly daysLeft: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The first certificate of each PEM (a leaf before its chain). */
export function certificateStatuses(certificates: readonly { readonly name: string; readonly pem: string | Buffer }[], now: Date = new Date()): CertificateStatus[] {
  return certificates.map(({ name, pem }) => {
    const notAfter = new Date(new X509Certificate(pem).validTo);
    return { name, notAfter, daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS) };
  });
}

/** Certificates expiring within `days`; an empty list when all are valid that long. */
export function expiringWithin(statuses: readonly CertificateStatus[], days: number): CertificateStatus[] {
  return statuses.filter((status) => status.daysLeft < days);
}
