// Numbers and dates in words a person reads at a glance. Sizes use decimal units
// (1 MB = 1,000,000 bytes), as file managers and storage providers print them.

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB", "PB"] as const;

function isUsable(n: number | null | undefined): n is number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}

/** 0 → "0 B", 1536 → "1.5 KB", 8_388_608 → "8.4 MB"; null or negative → "—". */
export function formatBytes(n: number | null | undefined): string {
  if (!isUsable(n)) return "—";
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // Three significant digits at most: 1.23 GB, 12.3 GB, 123 GB.
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${trimZeros(value.toFixed(digits))} ${BYTE_UNITS[unit]}`;
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Bytes per second → "2.4 MB/s"; null, negative or not a number → "—". */
export function formatSpeed(bps: number | null | undefined): string {
  if (!isUsable(bps)) return "—";
  return `${formatBytes(bps)}/s`;
}

/** A media length: 42 → "0:42", 185 → "3:05", 3723 → "1:02:03"; null → "—". */
export function formatDuration(seconds: number | null | undefined): string {
  if (!isUsable(seconds)) return "—";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Time left: 8 → "8 s", 125 → "2 min 5 s", 3900 → "1 h 5 min"; null → "—". */
export function formatEta(seconds: number | null | undefined): string {
  if (!isUsable(seconds)) return "—";
  const total = Math.ceil(seconds);
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return s > 0 ? `${m} min ${s} s` : `${m} min`;
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** An ISO 8601 instant in the reader's time zone: "Nov 30, 2026, 7:05 AM"; invalid → "—". */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "—" : dateFormat.format(d);
}

/** A percentage for people: 42.4 → "42 %"; null → "—". */
export function formatPercent(p: number | null | undefined): string {
  if (typeof p !== "number" || !Number.isFinite(p)) return "—";
  return `${Math.round(Math.min(100, Math.max(0, p)))} %`;
}
