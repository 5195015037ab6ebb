import { gobErrors } from './errors.js';

// time.Time.MarshalBinary (what gob sends for time.Time and metav1.Time, a GobEncoder):
// version (1, or 2 when the zone offset has seconds), int64 seconds since January 1 of
// year 1 UTC, int32 nanoseconds, int16 zone offset in minutes (-1 = UTC), and for
// version 2 one more byte of offset seconds. All big-endian.

const SECONDS_YEAR1_TO_UNIX = 62135596800n;

/** Formats Go's binary time as RFC 3339 in the sender's zone offset, with nanoseconds when non-zero. */
export function goTimeToRfc3339(b: Uint8Array): string {
  const version = b[0];
  if (version !== 1 && version !== 2) throw gobErrors.badTime(`version ${version}`);
  if (b.length !== (version === 1 ? 15 : 16)) throw gobErrors.badTime(`length ${b.length}`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sec = view.getBigInt64(1, false) - SECONDS_YEAR1_TO_UNIX;
  const nanos = view.getInt32(9, false);
  if (nanos < 0 || nanos >= 1e9) throw gobErrors.badTime(`nanoseconds ${nanos}`);
  const offsetMin = view.getInt16(13, false);
  // Version 2's extra byte is an int8 (the sign of the offset); Go 1.19's UnmarshalBinary
  // reads it unsigned, which shifts negative offsets with seconds: this reads what was meant.
  const offsetSec = offsetMin === -1 ? 0 : offsetMin * 60 + (version === 2 ? view.getInt8(15) : 0);
  const local = sec + BigInt(offsetSec);
  const days = Number(local / 86400n) - (local % 86400n < 0n ? 1 : 0);
  const secOfDay = Number(local - BigInt(days) * 86400n);
  const { year, month, day } = civilFromDays(days);
  if (year < 0 || year > 9999) throw gobErrors.badTime(`year ${year} outside RFC 3339`);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  let text = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(Math.floor(secOfDay / 3600))}:${pad(Math.floor(secOfDay / 60) % 60)}:${pad(secOfDay % 60)}`;
  if (nanos) text += `.${pad(nanos, 9).replace(/0+$/, '')}`;
  const off = Math.trunc(offsetSec / 60); // RFC 3339 has no offset seconds; Go drops them too
  if (off === 0) return `${text}Z`;
  const abs = Math.abs(off);
  return `${text}${off < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// Howard Hinnant's days_from_civil inverse: proleptic Gregorian date of a day count from 1970-01-01.
function civilFromDays(z: number): { year: number; month: number; day: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}
