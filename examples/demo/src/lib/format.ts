/** Small display helpers: times and user agents. */

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** "3 minutes ago", "in 2 hours", "now". */
export function fromNow(epochSeconds: number, nowSeconds = Date.now() / 1000): string {
  const delta = epochSeconds - nowSeconds;
  for (const [unit, seconds] of units) {
    if (Math.abs(delta) >= seconds) return relative.format(Math.round(delta / seconds), unit);
  }
  return Math.abs(delta) < 10 ? 'just now' : relative.format(Math.round(delta), 'second');
}

/** "27 Nov 2026, 14:05 UTC". */
export function formatTime(epochSeconds: number): string {
  return `${absolute.format(new Date(epochSeconds * 1000))} UTC`;
}

/** ISO 8601, for `<time datetime>`. */
export function isoTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

/** "15 minutes", "1 minute", "40 seconds". */
export function duration(seconds: number): string {
  if (seconds >= 60) {
    const minutes = Math.ceil(seconds / 60);
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

const browsers: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\b(?:HeadlessChrome|Chromium|Chrome|CriOS)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
  [/\bcurl\/(\d+)/, 'curl'],
  [/\bnode\b|\bundici\b/i, 'Node.js'],
];

const systems: [RegExp, string][] = [
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bLinux\b/, 'Linux'],
];

/** "Chrome 156 on Linux" from a User-Agent header; "Unknown device" when there is none. */
export function describeUserAgent(userAgent: string | undefined): string {
  if (userAgent === undefined || userAgent.trim() === '') return 'Unknown device';
  let browser: string | undefined;
  for (const [pattern, name] of browsers) {
    const match = pattern.exec(userAgent);
    if (match) {
      browser = match[1] === undefined ? name : `${name} ${match[1]}`;
      if (/HeadlessChrome/.test(userAgent)) browser += ' (headless)';
      break;
    }
  }
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser === undefined) return system === undefined ? userAgent.slice(0, 40) : `Browser on ${system}`;
  return system === undefined ? browser : `${browser} on ${system}`;
}
