/**
 * What the `sessionkit` command does (`npx sessionkit secret`), apart from the process it runs
 * in (`index.ts`), so that it can be tested.
 *
 * @module
 */
import { encodeBase64Url } from '../core/base64url.ts';
import { checkSecrets } from '../core/secrets.ts';

const usage = `Usage: sessionkit <command>

Commands:
  secret    Print a fresh secret: 32 random bytes, base64url (43 characters).
            Put it in SESSIONKIT_SECRET (or your own secret variable). To rotate,
            put the new one first: SESSIONKIT_SECRET=new,old
  help      Show this text.
`;

/**
 * A fresh secret: 32 bytes from the platform's CSPRNG, base64url. Checked like any configured
 * secret. Chance patterns in random bytes have never brought one near the threshold (over
 * 300 000 draws, the lowest estimate was 220 bits against 192 required), but if one ever did,
 * it draws again rather than print a secret the check refuses.
 *
 * @example
 * ```ts
 * freshSecret(); // 'IffUKfnoI67PbE-MQKC4SUFricDMtiMXioKl2ekVzAE' (43 characters, different each time)
 * ```
 */
export function freshSecret(): string {
  const secret = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  return checkSecrets(secret).ok ? secret : freshSecret();
}

/**
 * Runs the command line `args` (without `node` and the script), writing to `out` / `err`.
 * Returns the exit code: 0, or 2 for an unknown command.
 *
 * @example
 * ```ts
 * runCli(['secret'], (text) => process.stdout.write(text), (text) => process.stderr.write(text)); // 0
 * ```
 */
export function runCli(args: readonly string[], out: (text: string) => void, err: (text: string) => void): number {
  const [command, ...rest] = args;
  if (command === 'secret' && rest.length === 0) {
    out(`${freshSecret()}\n`);
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    out(usage);
    return 0;
  }
  err(`sessionkit: unknown command "${args.join(' ')}".\n\n${usage}`);
  return 2;
}
