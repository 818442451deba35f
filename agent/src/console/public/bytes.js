// Sizes and times as the pages show them (the CLI's formatBytes without the exact count).

export function formatBytes(bytes) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** "2026-12-01T02:10:33.120Z" → "2026-12-01 02:10:33 UTC": the node's clock, as the CLI prints it. */
export function formatTime(iso) {
  return typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '—';
}
