// Times as the node reads them: in the node's IANA zone (`zone` in duck status --json), not the
// browser's, since windows, a hold's end date and a schedule are the node's.

const PARTS = (zone) =>
  new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });

function wallParts(ms, zone) {
  return Object.fromEntries(PARTS(zone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

/** The zone's offset from UTC at instant `ms`, in minutes (+480 for Asia/Shanghai). */
export function zoneOffsetMinutes(ms, zone) {
  const p = wallParts(ms, zone);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

const pad = (n) => String(n).padStart(2, '0');

function offsetText(minutes) {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * A date-time picker's value (`2026-12-05T02:00`, wall time in `zone`) as the RFC 3339 time with
 * the zone's offset the overlay needs (`2026-12-05T02:00:00+08:00`); null when it is not one.
 */
export function wallTimeToInstant(local, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  // The offset depends on the instant, which depends on the offset: twice settles it (a DST edge).
  let offset = zoneOffsetMinutes(wall, zone);
  offset = zoneOffsetMinutes(wall - offset * 60000, zone);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${offsetText(offset)}`;
}

/** The picker's value (wall time in `zone`) for an instant. */
export function wallTimeOf(iso, zone) {
  const p = wallParts(Date.parse(iso), zone);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** "Sat 5 Dec 2026, 02:00 UTC": an instant as a person on the node reads it (the same in every browser). */
export function formatInZone(iso, zone) {
  const format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const p = Object.fromEntries(format.formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} ${zone}`;
}
