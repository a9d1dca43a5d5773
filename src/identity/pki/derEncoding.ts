import forge from 'node-forge';

/** Just enough DER writing for a CRL: elements are assembled from exact bytes, never re-encoded. */
export function derElement(tag: number, content: Uint8Array): Buffer {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), content]);
}

export const derSequence = (...children: Uint8Array[]): Buffer => derElement(0x30, Buffer.concat(children));

export function derOid(oid: string): Buffer {
  return derElement(0x06, Buffer.from(forge.asn1.oidToDer(oid).getBytes(), 'binary'));
}

export const derNull = (): Buffer => Buffer.from([0x05, 0x00]);

/** A non-negative INTEGER from hex, with the leading zero byte DER needs when the top bit is set. */
export function derUnsignedInteger(hex: string): Buffer {
  let digits = hex.replace(/^0+/, '');
  if (digits.length % 2 === 1) digits = `0${digits}`;
  let bytes = Buffer.from(digits === '' ? '00' : digits, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return derElement(0x02, bytes);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function derTime(date: Date): Buffer {
  return date.getUTCFullYear() < 2050 ? derElement(0x17, Buffer.from(forge.asn1.dateToUtcTime(date), 'latin1')) : derElement(0x18, Buffer.from(forge.asn1.dateToGeneralizedTime(date), 'latin1'));
}

export function derBitString(bytes: Uint8Array): Buffer {
  return derElement(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

export const derOctetString = (bytes: Uint8Array): Buffer => derElement(0x04, bytes);
